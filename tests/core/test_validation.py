"""core.validation: pydantic's errors as SourceErrors that point into the editor's YAML
(file:line:column, the field, what was expected and what arrived, "did you mean")."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Union

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from newsletter.core.errors import SourceError
from newsletter.core.validation import data_loc, errors_from_pydantic, model_keys, suggest
from newsletter.core.yamlsrc import load_yaml


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Article(_Strict):
    type: Literal["article"]
    title: str
    words: int = 0


class Divider(_Strict):
    type: Literal["divider"]


class Doc(_Strict):
    title: str
    size: Literal["small", "large"] = "small"
    tags: list[str] = Field(default_factory=list)
    blocks: list[Annotated[Union[Article, Divider], Field(discriminator="type")]] = Field(default_factory=list)


def errors(tmp_path: Path, text: str) -> list[SourceError]:
    path = tmp_path / "doc.yaml"
    path.write_text(text, encoding="utf-8")
    data, smap = load_yaml(path)
    with pytest.raises(ValidationError) as info:
        Doc.model_validate(data)
    return sorted(errors_from_pydantic(info.value, smap, Doc, data), key=lambda e: (e.line or 0, e.column or 0))


def test_an_unknown_key_is_shown_where_it_was_written_with_a_suggestion(tmp_path: Path) -> None:
    (err,) = errors(tmp_path, "title: T\nblocks:\n  - type: article\n    titel: A\n    title: B\n")
    assert (err.line, err.column, err.field) == (4, 5, "blocks[0].titel")
    assert err.message == "unknown key 'titel'; did you mean 'title'?"
    assert err.source_line == "    titel: A" and str(err.path).endswith("doc.yaml")
    assert str(err).endswith("doc.yaml:4:5: blocks[0].titel: unknown key 'titel'; did you mean 'title'?")


def test_an_unknown_key_far_from_every_name_lists_the_names(tmp_path: Path) -> None:
    (err,) = errors(tmp_path, "title: T\nzzz: 1\n")
    assert err.message == "unknown key 'zzz'; expected one of: blocks, size, tags, title"


def test_a_missing_key_points_at_the_mapping_that_lacks_it(tmp_path: Path) -> None:
    (err,) = errors(tmp_path, "title: T\nblocks:\n  - type: article\n    words: 3\n")
    assert (err.line, err.field) == (3, "blocks[0].title")
    assert err.message == "missing required key 'title'"


def test_an_unknown_block_type_suggests_the_closest(tmp_path: Path) -> None:
    (err,) = errors(tmp_path, "title: T\nblocks:\n  - type: artcle\n")
    assert err.line == 3 and err.field.startswith("blocks[0]")
    assert err.message.startswith("unknown type 'artcle'; did you mean 'article'?")
    assert "expected one of: article, divider" in err.message


def test_a_block_without_a_type_says_which_key_is_missing(tmp_path: Path) -> None:
    (err,) = errors(tmp_path, "title: T\nblocks:\n  - title: A\n")
    assert err.message == "missing key 'type' that says what this is"


def test_a_wrong_type_says_what_was_expected_and_what_arrived(tmp_path: Path) -> None:
    (err,) = errors(tmp_path, "title: T\nblocks:\n  - type: article\n    title: A\n    words: many\n")
    assert (err.line, err.field) == (5, "blocks[0].words")
    assert err.message == "expected a valid integer, unable to parse string as an integer; got 'many'"


def test_a_wrong_choice_suggests_the_closest(tmp_path: Path) -> None:
    (err,) = errors(tmp_path, "title: T\nsize: lage\n")
    assert err.message == "expected 'small' or 'large'; got 'lage'; did you mean 'large'?"
    (far,) = errors(tmp_path, "title: T\nsize: huge\n")
    assert far.message == "expected 'small' or 'large'; got 'huge'"


def test_a_mapping_or_list_where_the_other_belongs(tmp_path: Path) -> None:
    found = errors(tmp_path, "title: T\ntags: {a: 1}\nblocks:\n  - divider\n")
    messages = [e.message for e in found]
    assert messages[0] == "expected a list (lines starting with '- '); got a mapping"
    assert messages[1].startswith("expected a mapping of keys to values")


def test_every_error_is_reported_at_once(tmp_path: Path) -> None:
    found = errors(tmp_path, "titel: T\nsize: lage\nblocks:\n  - type: divider\n    extra: 1\n")
    assert sorted(e.field for e in found) == ["blocks[0].extra", "size", "titel", "title"]


def test_suggest_and_the_data_part_of_a_location() -> None:
    assert suggest("adress", ["address", "name"]) == "; did you mean 'address'?"
    assert suggest("xyz", ["address", "name"]) == ""
    data = {"blocks": [{"type": "article", "title": "A"}]}
    # 'article' is the union's tag: it is not in the data, so it is dropped.
    assert data_loc(data, ("blocks", 0, "article", "title")) == ("blocks", 0, "title")
    assert data_loc(data, ("blocks", 0, "article", "titel"), keep_last=True) == ("blocks", 0, "titel")
    assert model_keys(Article) == ["type", "title", "words"] and model_keys(None) == []

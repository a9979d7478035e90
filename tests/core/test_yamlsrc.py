"""The editor-safe YAML loader: YAML 1.1 traps, refusals, and positions."""
from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.core.errors import SourceError
from newsletter.core.yamlsrc import MAX_BYTES, load_front_matter, load_yaml


def load(tmp_path: Path, text: str):
    path = tmp_path / "x.yaml"
    path.write_text(text, encoding="utf-8")
    return load_yaml(path)


def test_yaml_11_traps_stay_the_strings_typed(tmp_path: Path) -> None:
    data, _ = load(tmp_path, "title: NO\nversion: 1.10\nflag: on\ncountry: NO\nzip: 01234\ntime: 12:30\n")
    assert data == {"title": "NO", "version": "1.10", "flag": "on", "country": "NO",
                    "zip": "01234", "time": "12:30"}


def test_empty_and_null_values_are_none(tmp_path: Path) -> None:
    data, _ = load(tmp_path, "a:\nb: ~\nc: null\nd: ''\n")
    assert data == {"a": None, "b": None, "c": None, "d": ""}


def test_positions_point_at_keys_and_items(tmp_path: Path) -> None:
    _, smap = load(tmp_path, "a: 1\nlist:\n  - x\n  - {k: v}\n")
    assert (smap.positions[("a",)].line, smap.positions[("a",)].column) == (1, 1)
    assert (smap.positions[("list", 1)].line, smap.positions[("list", 1)].column) == (4, 5)
    assert (smap.positions[("list", 1, "k")].line, smap.positions[("list", 1, "k")].column) == (4, 6)


@pytest.mark.parametrize("text, message, line", [
    ("a: &x [1, 2]\nb: *x\n", "anchors (&name) are not allowed", 1),
    ("a: !!python/object:os.system x\n", "custom tag", 1),
    ("a: !include other.yaml\n", "custom tag '!include'", 1),
    ("base: {x: 1}\nb:\n  <<: {y: 2}\n", "merge keys (<<) are not allowed", 3),
    ("a: 1\na: 2\n", "duplicate key 'a' (first given on line 1)", 2),
    ("a: [1, 2\n", "YAML syntax error", 2),
    ("? [a, b]\n: c\n", "a key must be a plain word", 1),
])
def test_refusals_name_the_line(tmp_path: Path, text: str, message: str, line: int) -> None:
    with pytest.raises(SourceError) as info:
        load(tmp_path, text)
    assert message in info.value.message
    assert info.value.line == line


def test_alias_bomb_is_refused_before_expansion(tmp_path: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(8))
    with pytest.raises(SourceError, match="anchors"):
        load(tmp_path, bomb)


def test_file_over_one_megabyte_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("a: " + "x" * MAX_BYTES + "\n")
    with pytest.raises(SourceError, match="the limit is 1,000,000 bytes"):
        load_yaml(path)


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("a: ok\nb: caf\xe9\n".encode("latin-1"))
    with pytest.raises(SourceError) as info:
        load_yaml(path)
    assert info.value.line == 2 and "UTF-8" in info.value.message


def test_front_matter_lines_count_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "story.md"
    path.write_text("---\ntitle: Hello\nalt: x\n---\nBody\n", encoding="utf-8")
    data, smap, body, body_line = load_front_matter(path)
    assert data == {"title": "Hello", "alt": "x"}
    assert smap.positions[("alt",)].line == 3
    assert body == "Body\n" and body_line == 5


def test_front_matter_without_end_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "story.md"
    path.write_text("---\ntitle: Hello\nBody\n", encoding="utf-8")
    with pytest.raises(SourceError, match="no closing '---'"):
        load_front_matter(path)


def test_merge_field_in_plain_scalar_gets_a_hint(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as info:
        load(tmp_path, 'intro: Hi {{ first_name | default: "x" }}\n')
    assert "may need quotes" in info.value.message and info.value.line == 1

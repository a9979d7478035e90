"""Translation files: field names, fingerprints, and that any text written reads back exactly."""
from __future__ import annotations

from pathlib import Path

from hypothesis import given, strategies as st

from newsletter.content.translations import dump, fingerprint, parse_field
from newsletter.core.yamlsrc import load_yaml


def test_field_names_parse_like_check_shows_them() -> None:
    assert parse_field("subject") == ("subject",)
    assert parse_field("blocks[2].events[0].title") == ("blocks", 2, "events", 0, "title")
    for bad in ("", "[0]", "blocks[x]", "blocks..title", "blocks[1]title", ".subject"):
        assert parse_field(bad) is None, bad


def test_a_fingerprint_ignores_line_ends_and_trailing_spaces_but_not_words() -> None:
    text = "Dear friends,\nthis month\n"
    assert fingerprint(text) == fingerprint("Dear friends,  \r\nthis month")
    assert fingerprint(text) != fingerprint("Dear friends,\nnext month\n")
    assert fingerprint("e\u0301") == fingerprint("\u00e9")  # the same letter, two Unicode forms


# Every character a translator might send, including YAML's own syntax, quotes, backslashes,
# tabs, control characters it must escape and lines with trailing spaces.
TEXTS = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80)


@given(texts=st.lists(TEXTS, min_size=1, max_size=4))
def test_any_text_written_reads_back_exactly(tmp_path_factory, texts: list[str]) -> None:
    path: Path = tmp_path_factory.mktemp("tr") / "de.yaml"
    entries = [(f"blocks[{i}].title", text, fingerprint(text)) for i, text in enumerate(texts)]
    path.write_text(dump(entries, "a header\nof two lines"), encoding="utf-8")
    data, _smap = load_yaml(path)
    assert [data[field]["text"] for field, _t, _s in entries] == texts

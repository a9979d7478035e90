"""The toolbar's state in the query string, and errors as the page shows them."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

from newsletter.core.errors import SourceError, ValidationFailed
from newsletter.preview.pages import Selection, selection_from, shown_errors

CHOICES = dict(languages=["en", "de"], default_language="en", segments=["all", "leaders"],
               views=["email", "text"])


def test_selection_round_trips_through_the_query() -> None:
    sel = Selection("de", "leaders", "ana@example.org", "375", True, "text")
    assert selection_from(parse_qs(sel.query()), **CHOICES) == sel


def test_unknown_values_fall_back_to_defaults() -> None:
    query = parse_qs("lang=xx&segment=<script>&width=9999&view=../../etc&dark=maybe")
    assert selection_from(query, **CHOICES) == Selection("en", "all", "", "desktop", False, "email")


def test_errors_show_workspace_relative_file_line_and_caret(tmp_path: Path) -> None:
    err = SourceError(tmp_path / "issues" / "x" / "edition.yaml", 7, 3, "bad value", "blocks[0].title", "  title: x")
    [shown] = shown_errors(ValidationFailed([err]), tmp_path)
    assert shown.location == "issues/x/edition.yaml:7:3"
    assert (shown.field, shown.message, shown.source_line, shown.caret) == ("blocks[0].title", "bad value", "  title: x", "  ^")


def test_unexpected_errors_are_named_not_hidden(tmp_path: Path) -> None:
    try:
        {}["missing"]
    except KeyError as exc:
        [shown] = shown_errors(exc, tmp_path)
    assert shown.message.startswith("internal error: KeyError: 'missing' (at test_pages.py:")

"""Plain-text writing: wrapping, numbered links, Markdown to text, event dates."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
import yaml

from newsletter.content.model import Event
from newsletter.render import dates
from newsletter.render.text import LinkRefs, markdown_to_text, underline, wrap

from tests.support.samples import ROOT


def test_wrap_keeps_lines_within_78_columns_and_urls_whole() -> None:
    url = "https://example.org/" + "x" * 90
    text = ("word " * 40) + url + " end"
    lines = wrap(text).split("\n")
    assert all(len(line) <= 78 for line in lines if line != url)
    assert url in lines


def test_wrap_indents_continuation_lines() -> None:
    out = wrap("alpha " * 30, indent="  ", first="* ")
    lines = out.split("\n")
    assert lines[0].startswith("* alpha") and all(line.startswith("  alpha") for line in lines[1:])
    assert max(map(len, lines)) <= 78


def test_underline_matches_the_title() -> None:
    assert underline("News", "=") == "News\n===="


def test_links_get_one_number_each_in_reading_order() -> None:
    refs = LinkRefs()
    assert [refs.ref("https://a.org"), refs.ref("https://b.org"), refs.ref("https://a.org")] == ["[1]", "[2]", "[1]"]
    long = "https://example.org/" + "y" * 80
    refs.ref(long)
    assert refs.lines() == ["[1] https://a.org", "[2] https://b.org", "[3]", long]


MARKDOWN = """\
# Title

A paragraph with **bold**, *emphasis*, `code` and a [link](https://a.org/x?y=1&z=2), then a
second [link](https://b.org) and the [first again](https://a.org/x?y=1&z=2).

3. three
4. four
   - nested *item*

> quoted words

![A picture](https://img.example.org/p.png)

Line one  
line two
"""


def test_markdown_to_text() -> None:
    refs = LinkRefs()
    text = markdown_to_text(MARKDOWN, refs)
    assert text.split("\n\n") == [
        "Title\n=====",
        "A paragraph with bold, emphasis, code and a link [1], then a second link [2]\nand the first again [1].",
        "3. three\n4. four\n   - nested item",
        "> quoted words",
        "[A picture]",
        "Line one\nline two",
    ]
    assert refs.urls == ["https://a.org/x?y=1&z=2", "https://b.org"]


def test_markdown_to_text_indents_a_whole_body() -> None:
    text = markdown_to_text("First paragraph.\n\n- a list item", LinkRefs(), indent="  ")
    assert text == "  First paragraph.\n\n  - a list item"


def test_a_link_whose_text_is_its_url_is_written_once() -> None:
    refs = LinkRefs()
    assert markdown_to_text("<https://a.org/page>", refs) == "https://a.org/page"
    assert refs.urls == []


@pytest.fixture
def words() -> dict[str, SimpleNamespace]:
    table = yaml.safe_load((ROOT / "templates" / "strings.yaml").read_text(encoding="utf-8"))
    return {lang: SimpleNamespace(**table[lang]) for lang in ("en", "de", "es")}


def event(start: str, end: str | None, zone: str) -> Event:
    return Event(title="x", start=dt.datetime.fromisoformat(start),
                 end=dt.datetime.fromisoformat(end) if end else None, timezone=zone, place="here")


def test_event_times_in_each_language(words) -> None:
    one_day = event("2026-11-26T17:00", "2026-11-26T19:00", "UTC")
    assert dates.when(one_day, words["en"]) == "Thursday 26 November 2026, 17:00\u201319:00 UTC"
    assert dates.when(one_day, words["de"]) == "Donnerstag, 26. November 2026, 17:00\u201319:00 UTC"
    assert dates.when(one_day, words["es"]) == "jueves 26 de noviembre de 2026, 17:00\u201319:00 UTC"


def test_event_over_several_days_with_zone_abbreviation(words) -> None:
    days = event("2026-11-20T10:00", "2026-11-21T16:00", "Europe/Berlin")
    assert dates.when(days, words["en"]) == (
        "Friday 20 November 2026, 10:00 \u2013 Saturday 21 November 2026, 16:00 CET (Europe/Berlin)")


def test_event_without_end_and_summer_time(words) -> None:
    summer = event("2026-07-01T09:30", None, "Europe/Berlin")
    assert dates.when(summer, words["en"]) == "Wednesday 1 July 2026, 09:30 CEST (Europe/Berlin)"
    numeric = event("2026-07-01T09:30", None, "America/Sao_Paulo")   # abbreviation is '-03'
    assert dates.when(numeric, words["en"]).endswith("09:30 America/Sao_Paulo")

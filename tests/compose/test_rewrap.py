"""Issue 18: the text part is wrapped after merging. Messages composed by the real Composer for
recipients with very long names and attributes have no text line over 78 characters (a line
that is only a URL, or "[n] URL", excepted), lose no words, and lines the theme breaks on
purpose (list items, "When:"/"Where:") stay separate."""
from __future__ import annotations

import re
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from newsletter.compose import rewrap
from newsletter.compose.reference import fill
from newsletter.content.merge import MergeField, token_re
from tests.compose.test_merge_safety import make, person

URL_LINE = re.compile(r"^(\[\d+\] )?(https?://|mailto:)\S+$")
BODY = """Dear {{ first_name }}, this month Mother Centres from Kenya to Argentina open their doors to one another, and {{ attributes.centre }} is invited to join the exchange.

- {{ first_name }} from {{ attributes.centre }}: bring your questions to the meeting, and your colleagues too.
- A short item that stays on its own line.

> Quoted words for {{ name }} that go on for a while, so that the quote wraps to a second line here.

When: Thursday 5 November 2026, 18:00\\
Where: {{ attributes.centre }}"""
LONG = ["Maximiliane-Josephine Alexandrina", "Bartholomäus-Konstantin von Hohenzollern-Sigmaringen",
        "x" * 60, "Mütterzentrum Lindenhof-Großstadtviertel Süd-West e.V. Familienbildungsstätte"]


def text_of(message: bytes) -> str:
    text = BytesParser(policy=policy.default).parsebytes(message).get_body(("plain",)).get_content()
    return text.replace("\r\n", "\n")


@pytest.mark.parametrize("long", LONG)
def test_no_text_line_over_78_with_long_names_and_attributes(sample_ws: Path, long: str) -> None:
    _, variant, composer = make(sample_ws, BODY)
    recipient = person(centre=long, first=long)
    text = text_of(composer.compose(recipient))
    too_long = [line for line in text.splitlines() if len(line) > 78 and not URL_LINE.match(line)]
    assert too_long == []
    fields = composer.fields_for(recipient)
    unwrapped = fill(variant.text, fields.values, placeholders=variant.token_re)
    assert text.split() == unwrapped.split()                # re-wrapped, nothing lost or added
    assert f"- {long.split()[0]}" in text and "\n- A short item that stays on its own line.\n" in text
    assert "\nWhen: Thursday 5 November 2026, 18:00\nWhere: " in text
    quote = next(chunk for chunk in text.split("\n\n") if "Quoted words" in chunk)
    assert all(line.startswith("> ") for line in quote.splitlines()), quote


def test_short_values_leave_the_rendered_wrapping_alone(sample_ws: Path) -> None:
    _, variant, composer = make(sample_ws, BODY)
    recipient = person(centre="Lindenhof", first="Ana")
    fields = composer.fields_for(recipient)
    assert text_of(composer.compose(recipient)) == fill(variant.text, fields.values, placeholders=variant.token_re)


def test_only_paragraphs_with_merge_fields_are_split_off() -> None:
    fields = {0: MergeField("first_name", "friends", 0, 0), 1: MergeField("unsubscribe_url", "", 0, 0)}
    text = "Static paragraph.\n\nDear %%MF0%%, hello.\n\nUnsubscribe:\n%%MF1%%\n"
    template, paragraphs = rewrap.split(text, token_re(), fields)
    assert template == "Static paragraph.\n\n%%MF2%%\n\nUnsubscribe:\n%%MF1%%\n"
    assert [p.text for p in paragraphs.values()] == ["Dear %%MF0%%, hello."]

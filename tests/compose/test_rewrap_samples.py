"""Issue 18: the text part of every variant of both sample workspaces' editions (root issues/
and examples/namc), composed by the real Composer for recipients whose name and every merge
field the variant uses (first_name, attributes.centre, attributes.state, ...) are very long:
no line over 78 characters (a line that is only a URL, or "[n] URL", excepted), and every
long value is in the text, whole."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from newsletter.compose.composer import Composer, Recipient
from newsletter.render import render_edition
from tests.compose.test_rewrap import LONG, URL_LINE, text_of
from tests.support.samples import SAMPLES, Sample

KEY = b"test-secret-key-0123456789abcdef"
NOW = datetime(2026, 11, 3, 9, 30, tzinfo=timezone.utc)


def recipient_for(fields: set[str], long: str) -> Recipient:
    """Every field the variant merges, set to ``long``."""
    attributes = {f.split(".", 1)[1]: long for f in fields if f.startswith("attributes.")}
    return Recipient(id=7, email="maximiliane.josephine@example.org", name=long,
                     merge_data={"first_name": long, "last_name": long, "name": long, "attributes": attributes})


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.id)
def test_every_variant_keeps_text_lines_short_with_long_merge_values(sample: Sample) -> None:
    ws, loaded = sample.ws(), sample.loaded()
    too_long, checked = [], 0
    for variant in render_edition(ws, loaded):
        fields = {f.field for f in variant.fields.values()}
        composer = Composer(variant, ws.settings, KEY, clock=lambda: NOW, campaign="1")
        for long in LONG:
            text = text_of(composer.compose(recipient_for(fields, long)))
            flat = " ".join(text.split())
            if fields - {"url"}:
                checked += 1
                assert long in flat, f"{sample.id}:{variant.key}: {long!r} not merged"
            too_long += [f"{sample.id}:{variant.key} ({long[:20]}...): {len(line)}: {line}"
                         for line in text.splitlines() if len(line) > 78 and not URL_LINE.match(line)]
    assert checked > 0, "no variant merges a field: the test would prove nothing"
    assert too_long == []


def test_the_check_would_see_a_long_line() -> None:
    """The control: the URL exception is narrow."""
    assert URL_LINE.match("https://example.org/" + "x" * 80)
    assert URL_LINE.match("[12] https://example.org/" + "x" * 80)
    assert not URL_LINE.match("See https://example.org/" + "x" * 80)
    assert not re.fullmatch(r".{0,78}", "word " * 20)

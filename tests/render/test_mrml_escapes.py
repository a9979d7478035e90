"""MRML writes some characters in attribute values as Rust escapes ('\\u{200d}'); rendering
protects them (render.mjml.protect_attributes). Through the whole pipeline, with the texts
readers' screen readers read: the subject (aria-label, <title>), alt and link titles."""
from __future__ import annotations

import html as htmllib
import re
from pathlib import Path

import pytest

from newsletter.content.loader import load_edition
from newsletter.core.config import load_workspace
from newsletter.render import render_variant
from newsletter.render.mjml import MjmlError, _verify, to_html

TEXTS = {
    "emoji ZWJ sequence": "Family day \U0001F469\u200d\U0001F467 and \U0001F3F3\ufe0f\u200d\U0001F308",
    "French no-break spaces": "Photo\u00a0: la salle «\u00a0Les Tilleuls\u00a0»",
    "Arabic vowel marks": "\u0645\u064e\u0631\u0652\u062d\u064e\u0628\u064b\u0627 \u0628\u0650\u0643\u064f\u0645\u0652",
    "combining marks": "Cafe\u0301 and n\u0303",
    "thin and narrow spaces": "10\u202f000 Mu\u0308tter\u2009!",
    "bidi isolates": "Centre \u2067\u05de\u05e8\u05db\u05d6\u2069 open",
}


def attribute_values(html: str, name: str) -> list[str]:
    return [htmllib.unescape(v) for v in re.findall(rf'\s{name}="([^"]*)"', html)]


@pytest.mark.parametrize("text", TEXTS.values(), ids=TEXTS.keys())
def test_special_characters_reach_alt_title_and_aria_label_intact(sample_ws: Path, text: str) -> None:
    folder = sample_ws / "issues" / "2099-12"
    folder.mkdir(parents=True)
    quoted = text.replace('"', '\\"')
    (folder / "edition.yaml").write_text(f"""number: 99
date: 2099-12-01
languages: [en]
subject: "{quoted}"
preheader: A preheader for the test
blocks:
  - type: article
    title: Pictures
    image: https://cdn.example.org/a.png
    alt: "{quoted}"
    body: '![{quoted}](https://cdn.example.org/b.png "{quoted}") [a link](https://example.org "{quoted}")'
""", encoding="utf-8")
    ws = load_workspace(sample_ws)
    variant = render_variant(ws, load_edition(ws, "2099-12"), "en", ())
    assert "\\u{" not in variant.html and "\\\\" not in variant.html
    assert attribute_values(variant.html, "alt").count(text) == 2
    assert text in attribute_values(variant.html, "title")
    assert attribute_values(variant.html, "aria-label") == [text]
    assert htmllib.unescape(re.search(r"<title>(.*?)</title>", variant.html, re.S).group(1)) == text


def test_backslashes_and_line_breaks_in_attributes_survive() -> None:
    html = to_html('<mjml><mj-body><mj-section><mj-column><mj-image src="https://x.org/a.png" '
                   'alt="C:\\path&#10;two" /></mj-column></mj-section></mj-body></mjml>')
    assert attribute_values(html, "alt") == ["C:\\path\ntwo"]


def test_an_escape_mrml_writes_anyway_fails_loudly() -> None:
    with pytest.raises(MjmlError, match=r"\\u\{200d\}"):
        _verify("<mjml/>", '<img alt="a\\u{200d}b">')
    _verify('<mj-text>a \\u{200d} in the text itself</mj-text>', '<p>a \\u{200d} in the text itself</p>')

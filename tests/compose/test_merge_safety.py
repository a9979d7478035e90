"""Issue 16, security: merge values in links are filled and checked per recipient, and no
editor text can forge a placeholder. Rendered through the real pipeline, composed for real
recipients, and read back with the standard library's parser."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from newsletter.compose.composer import Composer, Recipient
from newsletter.content.loader import load_edition
from newsletter.core.config import load_workspace
from newsletter.render import render_variant

KEY = b"test-secret-key-0123456789abcdef"
NOW = datetime(2026, 11, 3, 9, 30, tzinfo=timezone.utc)
EDITION = """number: 9
date: 2026-12-01
languages: [en]
subject: {subject}
preheader: A preheader for the test
blocks:
  - type: article
    title: Centres
    body: |
{body}
"""


def make(ws_dir: Path, body: str, subject: str = "December news from the network") -> tuple:
    folder = ws_dir / "issues" / "2099-12"
    folder.mkdir(parents=True, exist_ok=True)
    indented = "\n".join("      " + line for line in body.split("\n"))
    (folder / "edition.yaml").write_text(EDITION.format(subject=subject, body=indented), encoding="utf-8")
    ws = load_workspace(ws_dir)
    loaded = load_edition(ws, "2099-12")
    variant = render_variant(ws, loaded, "en", ())
    return ws, variant, Composer(variant, ws.settings, KEY, clock=lambda: NOW, campaign="1")


def parts(message: bytes) -> tuple[str, str, str]:
    msg = BytesParser(policy=policy.default).parsebytes(message)
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    return str(msg["Subject"]), text, html


def person(centre: str | None = None, first: str = "Ana") -> Recipient:
    attributes = {"centre": centre} if centre is not None else {}
    return Recipient(id=1, email="ana@example.org", name="Ana",
                     merge_data={"first_name": first, "attributes": attributes})


HOSTILE = ["javascript:alert(1)", "JaVaScRiPt:alert(document.cookie)", " javascript:alert(1)",
           "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", "vbscript:msgbox(1)",
           "Lindenhof", "//evil.example.org/x", "java\tscript:alert(1)", "mailto:?cc=evil@example.org",
           "https://evil.example.org/\u00a0x", 'https://x.example.org/" onmouseover="alert(1)']


@pytest.mark.parametrize("value", HOSTILE)
def test_a_merge_field_that_is_a_link_falls_back_to_its_default(sample_ws: Path, value: str) -> None:
    _, variant, composer = make(sample_ws, '[Your centre]({{ attributes.centre or "https://mcin.example.org/centres" }})')
    _, text, html = parts(composer.compose(person(value)))
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert "https://mcin.example.org/centres" in hrefs
    assert not any(h.lower().lstrip().startswith(("javascript", "data", "vbscript", "lindenhof")) for h in hrefs)
    assert not re.search(r"\son\w+=", html)
    assert "https://mcin.example.org/centres" in text and value.strip() not in text
    assert composer.url_fallbacks == 1


def test_a_good_link_from_the_subscriber_is_used_and_not_counted(sample_ws: Path) -> None:
    _, _, composer = make(sample_ws, '[Your centre]({{ attributes.centre or "https://mcin.example.org/centres" }})')
    _, text, html = parts(composer.compose(person("https://lindenhof.example.org/?a=1&b=2")))
    assert 'href="https://lindenhof.example.org/?a=1&amp;b=2"' in html
    assert "https://lindenhof.example.org/?a=1&b=2" in text
    assert composer.url_fallbacks == 0


def test_a_value_inside_a_link_is_percent_encoded(sample_ws: Path) -> None:
    _, _, composer = make(sample_ws, "[Sign up](https://mcin.example.org/join?name={{ first_name }}&x=1)")
    _, text, html = parts(composer.compose(person(first='Ana & "Bo"/?#<x>')))
    assert 'href="https://mcin.example.org/join?name=Ana%20%26%20%22Bo%22%2F%3F%23%3Cx%3E&amp;x=1"' in html
    assert "https://mcin.example.org/join?name=Ana%20%26%20%22Bo%22%2F%3F%23%3Cx%3E&x=1" in text
    assert composer.url_fallbacks == 0


def test_merge_fields_in_link_fields_are_filled_per_recipient(sample_ws: Path) -> None:
    folder = sample_ws / "issues" / "2099-12"
    folder.mkdir(parents=True)
    (folder / "edition.yaml").write_text(EDITION.format(subject="December news from the network",
                                                        body="      Body.") +
        "    button:\n      label: Register\n      url: 'https://mcin.example.org/r?c={{ attributes.centre }}'\n",
        encoding="utf-8")
    ws = load_workspace(sample_ws)
    variant = render_variant(ws, load_edition(ws, "2099-12"), "en", ())
    composer = Composer(variant, ws.settings, KEY, clock=lambda: NOW, campaign="1")
    _, text, html = parts(composer.compose(person("Linden hof")))
    assert 'href="https://mcin.example.org/r?c=Linden%20hof"' in html
    assert "https://mcin.example.org/r?c=Linden%20hof" in text


FORGED = ["%%MF0%%", "%%MF1%%", "%%MF00%%", "\\%\\%MF0\\%\\%", "&#37;&#37;MF0&#37;&#37;", "%25%25MF0%25%25"]


@pytest.mark.parametrize("forged", FORGED)
def test_placeholder_lookalikes_in_editor_text_stay_literal(sample_ws: Path, forged: str) -> None:
    shown = "%%MF0%%" if forged not in ("%%MF00%%", "%25%25MF0%25%25", "%%MF1%%") else forged
    body = (f"Text {forged} here.\n\n![Alt {forged}](https://cdn.example.org/a.png)\n\n"
            f"[A link](https://example.org/{forged})")
    _, variant, composer = make(sample_ws, body, subject=f"'Subject {forged} news'")
    subject, text, html = parts(composer.compose(person()))
    token = composer._site.unsubscribe_url
    assert f"Text {shown} here." in text and f"Text {shown} here." in html
    assert f'alt="Alt {shown}"' in html
    assert f"Subject {forged} news" == subject
    # the reader's own unsubscribe link appears only where the theme puts it
    assert text.count(token) == 1 and html.count(f'href="{token}?token=') == 1


def test_the_salt_stays_when_output_holds_a_lookalike(sample_ws: Path) -> None:
    _, variant, _ = make(sample_ws, "Text %%MF0%% here.")
    assert variant.salt and re.fullmatch(r"[A-Z]{10}", variant.salt)
    assert "%%MF0%%" in variant.text and variant.token_re.search("%%MF0%%") is None


def test_without_lookalikes_placeholders_keep_their_short_form(sample_ws: Path) -> None:
    _, variant, _ = make(sample_ws, "Dear {{ first_name }}.")
    assert variant.salt == ""
    assert "Dear %%MF2%%." in variant.text

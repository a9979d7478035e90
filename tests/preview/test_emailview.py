"""Filling a variant for a sample subscriber, and preparing it for the preview frame."""
from __future__ import annotations

from newsletter.content.merge import MergeField
from newsletter.preview.emailview import fill, for_frame, has_dark_styles, remote_images
from newsletter.rendered import RenderedVariant

LINKS = {"unsubscribe_url": "https://example.org/u?token=preview", "preferences_url": "https://example.org/p?token=preview"}


def variant(html: str, text: str = "Hi %%MF0%%", subject: str = "For %%MF0%%") -> RenderedVariant:
    fields = {"%%MF0%%": MergeField("first_name", "friends", 0, 0),
              "%%MF1%%": MergeField("attributes.centre", "your centre", 0, 0),
              "%%MF2%%": MergeField("unsubscribe_url", "", 0, 0)}
    return RenderedVariant("2026-11", "en", (), subject, "Pre %%MF1%%", html, text, fields)


def test_values_are_escaped_in_html_and_raw_in_text() -> None:
    v = variant('<p>Hi %%MF0%% of %%MF1%%</p><a href="%%MF2%%">x</a>')
    out = fill(v, {"first_name": "<b>Ana</b> & co", "attributes": {"centre": "Lindenhof"}}, LINKS)
    assert "<p>Hi &lt;b&gt;Ana&lt;/b&gt; &amp; co of Lindenhof</p>" in out.html
    assert 'href="https://example.org/u?token=preview"' in out.html
    assert out.text == "Hi <b>Ana</b> & co"
    assert out.subject == "For <b>Ana</b> & co"
    assert out.preheader == "Pre Lindenhof"


def test_defaults_fill_in_for_missing_values() -> None:
    out = fill(variant("<p>%%MF0%%, %%MF1%%</p>"), {}, LINKS)
    assert "<p>friends, your centre</p>" in out.html


def test_frame_document_opens_links_in_a_new_tab() -> None:
    out = for_frame("<html><head><title>x</title></head><body></body></html>", dark=False)
    assert out.startswith('<html><head><base target="_blank">')


def test_dark_mode_turns_on_the_emails_own_dark_styles() -> None:
    doc = ("<html><head><style>@media (prefers-color-scheme: dark) { .a { color: white } }"
           "@media screen and (prefers-color-scheme:light) { .a { color: black } }</style></head></html>")
    assert has_dark_styles(doc)
    out = for_frame(doc, dark=True)
    assert "prefers-color-scheme" not in out
    assert "@media (min-width: 0px) { .a { color: white } }" in out
    assert "@media screen and (max-width: -1px)" in out
    assert for_frame(doc, dark=False).count("prefers-color-scheme") == 2


def test_dark_mode_without_dark_styles_is_forced_inversion() -> None:
    out = for_frame("<html><head></head><body>x</body></html>", dark=True)
    assert 'data-preview="forced-dark"' in out and "invert(1)" in out


def test_remote_images_are_listed() -> None:
    doc = '<img src="https://cdn.example.org/a.png"><img alt="" src=\'/e/x/files/b.png\'><IMG SRC=http://x.org/c.gif>'
    assert remote_images(doc) == ["http://x.org/c.gif", "https://cdn.example.org/a.png"]

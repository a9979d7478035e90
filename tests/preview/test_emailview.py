"""Preparing an email document for the preview frame."""
from __future__ import annotations

from newsletter.preview.emailview import for_frame, has_dark_styles, remote_images


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

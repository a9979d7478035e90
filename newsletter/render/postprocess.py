"""MJML's output, minus what no mail client we target needs (issue 18).

MJML writes the same boilerplate into every email. Some of it serves clients long gone, and
caniemail (the data behind doiuse-email, tests/render/test_doiuse.py) lists it as unsupported in
Gmail, Outlook or Yahoo. Each removal below was checked against that data and against what
Outlook for Windows and Apple Mail still need; docs/theme.md explains each one. Nothing else is
touched: MJML's Outlook conditionals, ``mso-`` properties, the ``-webkit-``/``-ms-`` text-size
and image-scaling resets, media queries and the theme's dark-mode rules all stay.

Pure string work on MJML's own, regular output (the targets are written by MJML, not by
editors), so a few anchored patterns are enough.
"""
from __future__ import annotations

import re

# `#outlook a { padding: 0; }`: stopped Hotmail/Outlook.com (2011) padding its own "view in
# browser" link; today's Outlook.com rewrites ids, so the rule matches nothing anywhere.
_OUTLOOK_ID_RULE = re.compile(r"#outlook a\s*\{\s*padding:\s*0;?\s*\}\s*")
# `outline: none` on images (MJML's reset and every <img>): old webmails drew a focus outline
# around linked images. Outlook for Windows ignores `outline` anyway, and removing it gives the
# keyboard focus ring back to linked images (WCAG 2.4.7) where the email is opened in a browser.
_OUTLINE_NONE = re.compile(r"(?<![\w-])outline:\s*none\s*;?\s*")
# `target="_blank"`: Gmail, Yahoo and Outlook.com force a new window whatever the link says and
# desktop clients open links in the browser, so the attribute changes nothing there; without it
# the web copy of the email no longer opens new tabs unasked.
_TARGET_BLANK = re.compile(r'(<a\b[^>]*?)\s+target="_blank"')
# A hidden block (the preheader) hidden four ways at once: `display:none` (everyone but Gmail's
# web client for other accounts), `max-height:0` with `overflow:hidden` (that client), and
# `mso-hide:all` (Outlook for Windows). `opacity:0` hides it from no client the others miss.
_STYLE_ATTR = re.compile(r'(<[A-Za-z][^<>]*?\sstyle=")([^"]*)"')
_STYLE_BLOCK = re.compile(r"(<style\b[^>]*>)(.*?)(</style>)", re.S)
_OPACITY_ZERO = re.compile(r"(?<![\w-])opacity:\s*0\s*;?\s*")
_HIDDEN = [re.compile(p) for p in (r"display:\s*none", r"max-height:\s*0(?![.\d])", r"overflow:\s*hidden")]
# MJML's phone rule for `mj-full-width-mobile` images, written into every email, used when an
# image asks for it (fluid-on-mobile): dead weight (and a chained type.class selector Outlook
# misreads) when no element carries the class.
_FULL_WIDTH_MOBILE = re.compile(r'<style type="text/css">@media only screen and \(max-width:\d+px\) \{\s*'
                                r'table\.mj-full-width-mobile \{[^}]*\}\s*td\.mj-full-width-mobile \{[^}]*\}\s*\}\s*</style>')
_USES_FULL_WIDTH_MOBILE = re.compile(r'class="[^"]*\bmj-full-width-mobile\b')


def postprocess(html: str) -> str:
    """The HTML without the boilerplate listed above (CSS is only touched inside <style>
    blocks and style attributes, never in the text)."""
    html = _STYLE_BLOCK.sub(_tidy_block, html)
    html = _STYLE_ATTR.sub(_tidy_attribute, html)
    html = _TARGET_BLANK.sub(r"\1", html)
    if not _USES_FULL_WIDTH_MOBILE.search(html):
        html = _FULL_WIDTH_MOBILE.sub("", html)
    return html


def _tidy_block(match: re.Match[str]) -> str:
    css = _OUTLINE_NONE.sub("", _OUTLOOK_ID_RULE.sub("", match.group(2)))
    return match.group(1) + css + match.group(3)


def _tidy_attribute(match: re.Match[str]) -> str:
    style = _OUTLINE_NONE.sub("", match.group(2))
    if all(p.search(style) for p in _HIDDEN):
        style = _OPACITY_ZERO.sub("", style)
    return f'{match.group(1)}{style}"'

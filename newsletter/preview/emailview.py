"""The few changes that make an email document safe and useful inside the preview's frame.

The frame's document is served with a Content-Security-Policy that allows no script at all,
inline styles, and images only from this server (remote images are not fetched: the preview
works offline and makes no request outside the machine). The frame itself is sandboxed
without ``allow-scripts``; ``allow-same-origin`` is kept only so the preview page can measure
the email's height and keep the scroll position across reloads - without scripts in the
frame that grants the email nothing.
"""
from __future__ import annotations

import re

FRAME_CSP = ("default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; font-src 'self' data:; "
             "script-src 'none'; form-action 'none'; frame-ancestors 'self'; "
             "sandbox allow-same-origin allow-popups allow-popups-to-escape-sandbox")
FRAME_SANDBOX = "allow-same-origin allow-popups allow-popups-to-escape-sandbox"

_HEAD = re.compile(r"<head\b[^>]*>", re.I)
_DARK = re.compile(r"\(\s*prefers-color-scheme\s*:\s*dark\s*\)", re.I)
_LIGHT = re.compile(r"\(\s*prefers-color-scheme\s*:\s*light\s*\)", re.I)
_REMOTE_IMG = re.compile(r"""<img\b[^>]*?\bsrc\s*=\s*["']?(https?://[^"'\s>]+)""", re.I)
_ALWAYS, _NEVER = "(min-width: 0px)", "(max-width: -1px)"
# What mail apps without the email's own dark styles do (Gmail and Outlook apps): invert
# the page's lightness, then invert images back so photos keep their colours.
_FORCED_DARK = ("<style data-preview=\"forced-dark\">html{filter:invert(1) hue-rotate(180deg);"
                "background:#fff}img{filter:invert(1) hue-rotate(180deg)}</style>")


def for_frame(document: str, dark: bool) -> str:
    """The email document prepared for the preview frame: links open in a new tab, and with
    ``dark`` the email's own dark-mode styles apply (or, without any, a forced inversion)."""
    extra = '<base target="_blank">'
    if dark:
        if has_dark_styles(document):
            document = _LIGHT.sub(_NEVER, _DARK.sub(_ALWAYS, document))
            extra += '<meta name="color-scheme" content="dark">'
        else:
            extra += _FORCED_DARK
    match = _HEAD.search(document)
    if match is None:
        return extra + document
    return document[: match.end()] + extra + document[match.end():]


def has_dark_styles(document: str) -> bool:
    return bool(_DARK.search(document))


def remote_images(document: str) -> list[str]:
    """Image URLs the preview does not fetch (they are outside the machine)."""
    return sorted(set(_REMOTE_IMG.findall(document)))

"""Turning a URL path into a file inside one served folder, or refusing it.

A request may only name files inside the folder it is served from (the edition folder for
images, the package's static folder for the UI). Everything else is a 404, whatever the
spelling: ``/../``, ``%2e%2e%2f``, double-encoded ``%252e``, backslashes, NUL bytes, or a
symbolic link that points out of the folder.
"""
from __future__ import annotations

import re

from pathlib import Path
from urllib.parse import unquote

_FORBIDDEN_CHARS = ("\\", "\x00", "%", ":")


def url_segments(raw: str) -> list[str] | None:
    """The decoded segments of a URL path, or None if any of them could leave a folder.

    The path is decoded exactly once. A '%' left after decoding means the client encoded
    twice; no file we serve needs that, so it is refused rather than decoded again.
    """
    decoded = unquote(raw, errors="strict") if "%" in raw else raw
    parts = decoded.split("/")
    for part in parts:
        if part in ("", ".", "..") or part.startswith(".") or any(c in part for c in _FORBIDDEN_CHARS):
            return None
    return parts


def safe_file(base: Path, raw: str) -> Path | None:
    """The existing regular file ``raw`` names inside ``base``, or None."""
    try:
        parts = url_segments(raw)
    except UnicodeDecodeError:
        return None
    if not parts:
        return None
    root = base.resolve()
    path = root.joinpath(*parts).resolve()
    # resolve() follows symbolic links: the real file must still be inside the folder.
    if root not in path.parents or not path.is_file():
        return None
    return path


_HASHED = re.compile(r"^(?P<stem>.+)\.[0-9a-f]{10}\.(?:jpg|png|gif)$")


def unhashed(raw: str) -> str:
    """``images/hero.3fa2c1d9e0.png`` -> ``images/hero.*``'s source: the published name of an
    image (content.images.plan) back to the editor's file, whatever its extension was."""
    match = _HASHED.match(raw)
    if not match:
        return raw
    return match.group("stem") + "." + raw.rsplit(".", 1)[1]

"""Markdown for editors: CommonMark through markdown-it-py, raw HTML never passed through.

One parser configuration is shared by validation and rendering, so what is checked is what
is rendered.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterator

from markdown_it import MarkdownIt
from markdown_it.token import Token

from newsletter.content import images
from newsletter.content.model import check_url

_RAW_HTML = re.compile(r"<(?:[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?|/[A-Za-z][A-Za-z0-9-]*\s*|!--.*?--)>", re.S)


@lru_cache(maxsize=1)
def parser() -> MarkdownIt:
    # 'html': False makes raw HTML plain text: it is escaped on output and never runs.
    return MarkdownIt("commonmark", {"html": False, "typographer": False})


def parse(text: str) -> list[Token]:
    return parser().parse(text)


@dataclass(frozen=True)
class Problem:
    message: str
    offset: int
    warning: bool = False


def _line_offsets(text: str) -> list[int]:
    offsets = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            offsets.append(i + 1)
    return offsets


def _inline_tokens(tokens: list[Token]) -> Iterator[tuple[int, Token]]:
    """(line index, token) for every inline child, with the line of its block."""
    for tok in tokens:
        if tok.type == "inline" and tok.children:
            line = tok.map[0] if tok.map else 0
            for child in tok.children:
                yield line, child


def problems(text: str, image_file: Callable[[str], Path | None]) -> list[Problem]:
    """Links that are not absolute, images without alt text or missing, raw HTML."""
    starts = _line_offsets(text)
    out: list[Problem] = []
    for line, tok in _inline_tokens(parse(text)):
        offset = _locate(text, starts[min(line, len(starts) - 1)], tok)
        if tok.type == "link_open":
            href = str(tok.attrGet("href") or "")
            try:
                check_url(href)
            except ValueError as exc:
                out.append(Problem(f"link: {exc}", offset))
        elif tok.type == "image":
            out += _image_problems(tok, offset, image_file)
    for match in _RAW_HTML.finditer(text):
        out.append(Problem(f"raw HTML {match.group(0)[:40]!r} is shown as text, not markup; "
                           "use Markdown instead", match.start(), warning=True))
    return out


def _image_problems(tok: Token, offset: int, image_file: Callable[[str], Path | None]) -> list[Problem]:
    src = str(tok.attrGet("src") or "")
    out = []
    if not tok.content.strip():
        out.append(Problem(f"image {src!r} needs alt text: ![what it shows]({src})", offset))
    path = image_file(src)
    if path is None:
        try:
            check_url(src)
        except ValueError as exc:
            out.append(Problem(f"image: {exc}", offset))
    elif not path.is_file():
        out.append(Problem(f"image file {src!r} not found", offset))
    else:
        try:
            images.inspect(path)
        except images.ImageRefused as exc:
            out.append(Problem(f"image {src!r}: {exc}", offset))
    return out


def _locate(text: str, line_start: int, tok: Token) -> int:
    """Best offset of a link or image: where its URL first appears at or after its line."""
    needle = str(tok.attrGet("href") or tok.attrGet("src") or "")
    found = text.find(needle, line_start) if needle else -1
    return found if found >= 0 else line_start

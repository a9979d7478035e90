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

from urllib.parse import unquote

from newsletter.content.model import URL_UNSAFE, check_url

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


def problems(text: str, image_problem: Callable[[str], str | None],
             expand: Callable[[str], str] = lambda url: url) -> list[Problem]:
    """Links that are not absolute, images without alt text or missing, raw HTML.
    ``expand`` fills the merge-field placeholders of a link with their defaults."""
    starts = _line_offsets(text)
    out: list[Problem] = []
    for line, tok in _inline_tokens(parse(text)):
        offset = _locate(text, starts[min(line, len(starts) - 1)], tok)
        if tok.type == "link_open":
            href = str(tok.attrGet("href") or "")
            problem = link_problem(expand(href))
            if problem:
                hint = _DEFAULT_HINT if expand(href) != href and unquote(href).startswith("%%MF") else ""
                out.append(Problem(f"link: {problem}{hint}", offset))
        elif tok.type == "image":
            out += _image_problems(tok, offset, image_problem)
    for match in _RAW_HTML.finditer(text):
        out.append(Problem(f"raw HTML {match.group(0)[:40]!r} is shown as text, not markup; "
                           "use Markdown instead", match.start(), warning=True))
    return out


_DEFAULT_HINT = (" (a merge field that starts a link needs a default that is a link itself: "
                 '{{ attributes.site or "https://example.org" }})')


def link_problem(href: str) -> str | None:
    """What is wrong with a link target as markdown-it gives it (percent-encoded): a no-break
    or other special space pasted into a URL is encoded there, and still breaks the link."""
    hidden = next((c for c in unquote(href) if ord(c) > 127 and URL_UNSAFE.match(c)), None)
    try:
        check_url(unquote(href) if hidden else href)
    except ValueError as exc:
        return str(exc)
    return None


def _image_problems(tok: Token, offset: int, image_problem: Callable[[str], str | None]) -> list[Problem]:
    src = str(tok.attrGet("src") or "")
    out = []
    if not tok.content.strip():
        out.append(Problem(f"image {src!r} needs alt text: ![what it shows]({src})", offset))
    problem = image_problem(src)
    if problem:
        out.append(Problem(problem if problem.startswith("image") else f"image: {problem}", offset))
    return out


def _locate(text: str, line_start: int, tok: Token) -> int:
    """Best offset of a link or image: where its URL first appears at or after its line."""
    needle = str(tok.attrGet("href") or tok.attrGet("src") or "")
    for candidate in (needle, unquote(needle)):
        found = text.find(candidate, line_start) if candidate else -1
        if found >= 0:
            return found
    return line_start

"""MJML to final HTML: MRML (mjml-python) and a targeted css-inline pass.

MRML is fast but leaves ``<mj-style inline="inline">`` rules as a ``<style>`` block instead of
inlining them, which mail clients that drop ``<style>`` (some webmails) then ignore. So those
rules are taken out of the MJML before MRML and inlined afterwards by css-inline, touching
nothing else: MJML's own ``<style>`` blocks and media queries (the phone layout) stay as they
are, and no remote stylesheet is ever fetched.

MRML does not validate and its parse errors carry no line (sometimes a byte offset), so when it
fails the place is found here and traced back to the template line that wrote it.
"""
from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from html.parser import HTMLParser

import css_inline
from mjml import mjml2html

from newsletter.render.postprocess import postprocess
from newsletter.render.theme import MARKER_RE

log = logging.getLogger(__name__)

# MJML links Google Fonts whenever a font stack names Roboto, Open Sans, ...: a remote request
# from every reader's mail client. Only fonts a theme declares with <mj-font> are linked.
NO_WEB_FONTS: dict[str, str] = {}
_INLINE_STYLE = re.compile(r"<mj-style\b[^>]*\binline=[\"']inline[\"'][^>]*>(.*?)</mj-style>", re.S)
_MRML_POSITION = re.compile(r"at position (\d+):(\d+)")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr", "mj-image", "mj-divider", "mj-spacer", "mj-all", "mj-breakpoint",
        "mj-font", "mj-class"}
_GOOD_TAG = re.compile(r"""^<[A-Za-z][\w:-]*(\s+[\w:-]+(\s*=\s*("[^"]*"|'[^']*'))?)*\s*/?>$""")


class MjmlError(Exception):
    """MRML refused the MJML."""


def split_inline_css(mjml_text: str) -> tuple[str, str]:
    """(MJML without its inline-only styles, those styles' CSS)."""
    css = "\n".join(m.group(1).strip() for m in _INLINE_STYLE.finditer(mjml_text))
    return _INLINE_STYLE.sub("", mjml_text), css


def to_html(mjml_text: str) -> str:
    """The final HTML of an MJML document. Raises MjmlError."""
    body, css = split_inline_css(mjml_text)
    body = protect_attributes(body)
    try:
        html = mjml2html(body, disable_comments=True, fonts=NO_WEB_FONTS)
    except ValueError as exc:  # mjml-python raises ValueError for every MRML error
        raise MjmlError(str(exc)) from None
    _verify(body, html)
    return postprocess(inline_css(html, css))


# MRML (mjml-python 1.4.2) writes attribute values with Rust's escape_debug: a
# combining mark, a zero-width joiner, a variation selector, a no-break space, a tab, a line
# break or a backslash comes out as the text '\u{200d}', '\u{a0}', '\t', '\\' - which screen
# readers then read out of alt and aria-label. Numeric character references pass through it
# untouched and mean the same to every HTML reader, so such characters are written as
# references inside attribute values before MRML sees them. (docs/upstream/mrml-attribute-escapes.md)
_TAG = re.compile(r"<[A-Za-z][\w:-]*\s[^<>]*>")
_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'")
_DEBUG_ESCAPED = re.compile(r"[\\\t\n\r\x00-\x1f\x7f-\xa0\xad\u0300-\u036f\u0483-\u0489\u0591-\u05c7"
                            r"\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0900-\u0903\u093a-\u094f"
                            r"\u1680\u180b-\u180e\u2000-\u200f\u2028-\u202f\u205f-\u206f\u20d0-\u20ff"
                            r"\u3000\ufe00-\ufe0f\ufe20-\ufe2f\ufeff\ufff9-\ufffb\U000e0000-\U000e01ef]")
_TITLE = re.compile(r"(<mj-title>)(.*?)(</mj-title>)", re.S)
_LEAKED = re.compile(r"\\u\{[0-9a-f]{1,6}\}")


def _needs_reference(char: str) -> bool:
    if _DEBUG_ESCAPED.match(char):
        return True
    return unicodedata.category(char)[0] in "MCZ" and char != " "


def _reference(match: re.Match[str]) -> str:
    return "".join(f"&#x{ord(c):x};" if _needs_reference(c) else c for c in match.group(0))


def protect_attributes(mjml_text: str) -> str:
    """``mjml_text`` with every character MRML would mangle inside an attribute value
    written as a numeric character reference (text between tags is left as it is)."""
    if mjml_text.isascii() and "\\" not in mjml_text and "\t" not in mjml_text:
        return mjml_text
    text = _TAG.sub(lambda tag: _QUOTED.sub(_reference, tag.group(0)), mjml_text)
    # MRML also copies <mj-title> into the body's aria-label attribute.
    return _TITLE.sub(lambda m: m.group(1) + _reference(re.match(r".*", m.group(2), re.S)) + m.group(3), text)


def _verify(mjml_text: str, html: str) -> None:
    """MRML must not have written a character as a Rust escape (see protect_attributes)."""
    leaked = _LEAKED.search(html)
    if leaked and leaked.group(0) not in mjml_text:
        at = html.rfind("<", 0, leaked.start())
        raise MjmlError(f"MRML wrote a character as {leaked.group(0)!r} in {html[at:leaked.end() + 20]!r}; "
                        "report it with docs/upstream/mrml-attribute-escapes.md")


def inline_css(html: str, css: str) -> str:
    if not css.strip():
        return html
    inliner = css_inline.CSSInliner(
        inline_style_tags=False, keep_style_tags=True, keep_link_tags=True,
        load_remote_stylesheets=False, extra_css=css,
    )
    return inliner.inline(html)


def diagnose(mjml_text: str) -> tuple[int | None, str] | None:
    """Where and why MRML refuses ``mjml_text`` (None when it does not): the first malformed
    or unbalanced tag found by a forgiving scan, else MRML's own byte position if it gives one."""
    try:
        mjml2html(mjml_text, disable_comments=True, fonts=NO_WEB_FONTS)
        return None
    except ValueError as exc:
        message = str(exc)
    found = _Scanner.first_problem(mjml_text)
    if found is not None:
        return found[0], f"{found[1]} (MRML: {message})"
    match = _MRML_POSITION.search(message)
    if match:
        start = len(mjml_text.encode("utf-8")[: int(match.group(1))].decode("utf-8", "ignore"))
        return start, f"MRML: {message}"
    return None, f"MRML: {message}"


class _Scanner(HTMLParser):
    """Finds the first unbalanced or malformed tag, or a bare '<', in generated MJML."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=False)
        self.text = text
        self.starts = [0]
        for i, ch in enumerate(text):
            if ch == "\n":
                self.starts.append(i + 1)
        self.stack: list[tuple[str, int]] = []
        self.problem: tuple[int, str] | None = None

    @classmethod
    def first_problem(cls, text: str) -> tuple[int, str] | None:
        scanner = cls(text)
        scanner.feed(text)
        scanner.close()
        if scanner.problem is None and scanner.stack:
            tag, offset = scanner.stack[-1]
            scanner.problem = (offset, f"<{tag}> is never closed")
        return scanner.problem

    def _offset(self) -> int:
        line, col = self.getpos()
        return self.starts[line - 1] + col

    def _report(self, offset: int, message: str) -> None:
        if self.problem is None:
            self.problem = (offset, message)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        raw = self.get_starttag_text() or ""
        if not _GOOD_TAG.match(raw.replace("\n", " ")):
            self._report(self._offset(), f"malformed tag {raw[:60]!r} (attribute values need quotes)")
        if tag not in VOID:
            self.stack.append((tag, self._offset()))

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        raw = self.get_starttag_text() or ""
        if not _GOOD_TAG.match(raw.replace("\n", " ")):
            self._report(self._offset(), f"malformed tag {raw[:60]!r} (attribute values need quotes)")

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        names = [t for t, _ in self.stack]
        if tag not in names:
            self._report(self._offset(), f"</{tag}> closes an element that is not open")
            return
        while self.stack and self.stack[-1][0] != tag:
            open_tag, offset = self.stack.pop()
            self._report(offset, f"<{open_tag}> is never closed (</{tag}> comes first)")
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        at = data.find("<")
        if at >= 0:
            self._report(self._offset() + at, "a bare '<' (write &lt; in text)")


@dataclass(frozen=True)
class Traced:
    """Generated MJML with the markers of the tracing loader taken out, and where they were."""

    text: str
    marks: list[tuple[int, int, int]]  # (offset in text, file number, line)

    @classmethod
    def parse(cls, marked: str) -> "Traced":
        out: list[str] = []
        marks: list[tuple[int, int, int]] = []
        last = length = 0
        for m in MARKER_RE.finditer(marked):
            out.append(marked[last:m.start()])
            length += m.start() - last
            marks.append((length, int(m.group(1)), int(m.group(2))))
            last = m.end()
        out.append(marked[last:])
        return cls("".join(out), marks)

    def source_of(self, offset: int) -> tuple[int, int] | None:
        """(file number, line) of the template line that wrote the character at ``offset``:
        the first line-end marker at or after it."""
        for at, number, line in self.marks:
            if at >= offset:
                return number, line
        return None

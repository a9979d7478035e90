"""Plain-text writing: wrapping at 78 columns, numbered link references, and Markdown to text.

The text part is written from the edition model through text templates; Markdown bodies are
turned into text here by walking markdown-it's syntax tree (the same parser as the HTML side),
never by scraping the HTML.
"""
from __future__ import annotations

import re
import textwrap
from typing import Callable, Iterator

from markdown_it.tree import SyntaxTreeNode

from newsletter.content.markdown import parser

WIDTH = 78
# Placeholders are salted while rendering and usually unsalted afterwards (render.fields), so
# text is measured as if they were unsalted: the same text wraps the same way either way.
_SALTED = re.compile(r"%%MF[A-Z]+(\d+)%%")
_STAND_IN = re.compile(r"\x00\x01*\x00")   # control characters never reach rendering


def width(text: str) -> int:
    """The length ``text`` will have once its placeholders are unsalted."""
    return len(_SALTED.sub(lambda m: f"%%MF{m.group(1)}%%", text))


def _stand_ins(text: str) -> tuple[str, Iterator[str]]:
    """``text`` with each salted placeholder replaced by a stand-in as long as the unsalted
    placeholder, and the placeholders in order (to put back with ``_STAND_IN``)."""
    found = [m.group(0) for m in _SALTED.finditer(text)]
    text = _SALTED.sub(lambda m: "\x00" + "\x01" * (len(m.group(1)) + 4) + "\x00", text)
    return text, iter(found)


class LinkRefs:
    """Numbered references for the text part: each URL gets one number, in reading order."""

    def __init__(self, bind: Callable[[str], str] = lambda url: url) -> None:
        self.urls: list[str] = []
        self.bind = bind   # a URL holding merge fields -> its link field (render.fields)

    def ref(self, url: str) -> str:
        url = self.bind(url)
        if url not in self.urls:
            self.urls.append(url)
        return f"[{self.urls.index(url) + 1}]"

    def lines(self) -> list[str]:
        """'[n] URL', or the URL on a line of its own when both do not fit in 78 columns."""
        out = []
        for i, url in enumerate(self.urls, 1):
            label = f"[{i}]"
            out += [f"{label} {url}"] if len(label) + 1 + width(url) <= WIDTH else [label, url]
        return out


def wrap(text: str, width: int = WIDTH, indent: str = "", first: str | None = None) -> str:
    """Wrap each line of ``text``; words (URLs) longer than the width stay whole."""
    first = indent if first is None else first
    text, placeholders = _stand_ins(text)
    out: list[str] = []
    for i, line in enumerate(text.split("\n")):
        wrapper = textwrap.TextWrapper(
            width=width, initial_indent=first if i == 0 else indent, subsequent_indent=indent,
            break_long_words=False, break_on_hyphens=False,
        )
        out += wrapper.wrap(line) or [(first if i == 0 else indent).rstrip()]
    return _STAND_IN.sub(lambda _: next(placeholders), "\n".join(out))


def underline(title: str, char: str = "-") -> str:
    """A heading: the wrapped title and a rule as long as its longest line."""
    text = wrap(" ".join(title.split()))
    longest = max(width(line) for line in text.split("\n"))
    return f"{text}\n{char * longest}"


def markdown_to_text(source: str, refs: LinkRefs, indent: str = "",
                     image_label: Callable[[str], str] = lambda alt: f"[{alt}]") -> str:
    """Markdown as plain text: paragraphs wrapped, lists with markers, links as [n]."""
    root = SyntaxTreeNode(parser().parse(source))
    return "\n\n".join(_blocks(root.children, refs, indent, image_label)).rstrip()


def _blocks(nodes: list[SyntaxTreeNode], refs: LinkRefs, indent: str, img: Callable[[str], str]) -> list[str]:
    out: list[str] = []
    for node in nodes:
        out += _block(node, refs, indent, img)
    return out


def _block(node: SyntaxTreeNode, refs: LinkRefs, indent: str, img: Callable[[str], str]) -> list[str]:
    kind = node.type
    if kind == "paragraph":
        return [wrap(_inline(node.children[0], refs, img), indent=indent)]
    if kind == "heading":
        level = int(node.tag[1])
        title = _inline(node.children[0], refs, img)
        return [indent + underline(title, "=" if level == 1 else "-").replace("\n", "\n" + indent)]
    if kind in ("bullet_list", "ordered_list"):
        return [_list(node, refs, indent, img)]
    if kind == "blockquote":
        return _blocks(node.children, refs, indent + "> ", img)
    if kind in ("fence", "code_block"):
        return ["\n".join(indent + "    " + line for line in node.content.rstrip("\n").split("\n"))]
    if kind == "hr":
        return [indent + "-" * 20]
    return _blocks(node.children, refs, indent, img)


def _list(node: SyntaxTreeNode, refs: LinkRefs, indent: str, img: Callable[[str], str]) -> str:
    items = []
    start = int(node.attrs.get("start", 1)) if node.type == "ordered_list" else 1
    for i, item in enumerate(node.children):
        marker = f"{start + i}. " if node.type == "ordered_list" else "- "
        inner = indent + " " * len(marker)
        parts = _blocks(item.children, refs, inner, img)
        text = "\n".join(parts)
        items.append(indent + marker + text[len(inner):] if text.startswith(inner) else indent + marker + text)
    return "\n".join(items)


def _inline(node: SyntaxTreeNode, refs: LinkRefs, img: Callable[[str], str]) -> str:
    out = []
    for child in node.children:
        kind = child.type
        if kind == "text" or kind == "code_inline":
            out.append(child.content)
        elif kind == "softbreak":
            out.append(" ")
        elif kind == "hardbreak":
            out.append("\n")
        elif kind == "link":
            label = _inline(child, refs, img)
            href = str(child.attrs.get("href", ""))
            out.append(refs.bind(href) if label.strip() == href else f"{label} {refs.ref(href)}")
        elif kind == "image":
            out.append(img(child.content))
        else:  # em, strong, ...: the words without the emphasis
            out.append(_inline(child, refs, img))
    return "".join(out)

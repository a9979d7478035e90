"""The text part re-wrapped after merging, paragraph by paragraph, only where merge fields are.

Rendering wraps the text part at 78 columns with the placeholders in it (``%%MF3%%`` is seven
characters; a name can be forty), so a recipient's values can push a line past 78. Re-wrapping
the whole text for every recipient would cost most of composition, so the variant's text is
split once: the paragraphs that hold a merge field that is not a link (links are URLs, which
stay whole on their own lines) become ``Paragraph`` slots, everything else stays static. Per
recipient only those paragraphs are filled, and re-wrapped only when a line is then too long.

A paragraph is a run of lines that rendering's wrapper made out of one: a line continues the one
before it when the word it starts with did not fit there (so "When: ..." / "Where: ..." lines,
which are separate on purpose, stay separate), with the same indent ("  " after a list marker,
"> " in a quote).
"""
from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from typing import Mapping

from newsletter.content.merge import LINK_FIELDS, URL_FIELD, MergeField, token
from newsletter.render.text import WIDTH, width

# Quote markers, indent, then a list marker: what a wrapped paragraph's first line starts with.
_LEAD = re.compile(r"((?:> ?)*)( *)((?:[-*] |\d+\. )?)")


@dataclass(frozen=True)
class Paragraph:
    """Lines of the text part that hold merge fields, as one paragraph to re-wrap."""

    text: str        # the lines, "\n"-joined, with placeholders
    first: str       # what the first line starts with (indent, quote and list markers)
    indent: str      # what the following lines start with
    placeholders: re.Pattern[str]

    def fill(self, values: Mapping[int, str]) -> str:
        """The paragraph with ``values`` in; re-wrapped only if a line is then over 78."""
        filled = self.placeholders.sub(lambda m: values[int(m.group(1))], self.text)
        lines = filled.split("\n")
        if all(len(line) <= WIDTH for line in lines):
            return filled
        words = " ".join([lines[0][len(self.first):], *(line[len(self.indent):] for line in lines[1:])])
        wrapper = textwrap.TextWrapper(width=WIDTH, initial_indent=self.first, subsequent_indent=self.indent,
                                       break_long_words=False, break_on_hyphens=False)
        return "\n".join(wrapper.wrap(words)) or filled


def _continuation(indent: str) -> str:
    """The prefix of a paragraph's following lines, from its first line's lead."""
    quotes, spaces, marker = _LEAD.match(indent).groups()  # type: ignore[union-attr]
    return quotes + spaces + " " * len(marker)


def _continues(previous: str, line: str, indent: str) -> bool:
    """Whether rendering's wrapper broke ``line`` off ``previous`` (same paragraph)."""
    if not previous.strip() or not line.startswith(indent):
        return False
    rest = line[len(indent):]
    if not rest or rest[0] == " " or _LEAD.match(rest).group(3):  # type: ignore[union-attr]
        return False
    first_word = rest.split(" ", 1)[0]
    return width(previous) + 1 + width(first_word) > WIDTH


def split(text: str, placeholders: re.Pattern[str], fields: Mapping[int, MergeField],
          salt: str = "") -> tuple[str, dict[int, Paragraph]]:
    """``text`` with every paragraph holding a non-link merge field replaced by a new
    placeholder (numbered after the fields), and those paragraphs by their placeholder index."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")   # as qp.Body reads it
    wrapped = {i for i, f in fields.items() if f.field not in LINK_FIELDS and f.field != URL_FIELD}
    lines = text.split("\n")
    groups: list[tuple[list[str], str, str]] = []   # lines, first lead, indent
    for line in lines:
        if groups and _continues(groups[-1][0][-1], line, groups[-1][2]):
            groups[-1][0].append(line)
        else:
            lead = _LEAD.match(line).group(0)  # type: ignore[union-attr]
            groups.append(([line], lead, _continuation(lead)))
    slot = max(fields, default=-1) + 1
    out: list[str] = []
    paragraphs: dict[int, Paragraph] = {}
    for group, first, indent in groups:
        joined = "\n".join(group)
        if any(int(i) in wrapped for i in placeholders.findall(joined)):
            paragraphs[slot] = Paragraph(joined, first, indent, placeholders)
            joined = token(slot, salt)
            slot += 1
        out.append(joined)
    return "\n".join(out), paragraphs


def filled_text(text: str, placeholders: re.Pattern[str], fields: Mapping[int, MergeField],
                values: Mapping[int, str], salt: str = "") -> str:
    """The whole text part for one recipient, re-wrapped (for the reference message and the
    preview; the composer keeps the split and fills only the paragraphs)."""
    template, paragraphs = split(text, placeholders, fields, salt)
    filled = {**values, **{i: p.fill(values) for i, p in paragraphs.items()}}
    return placeholders.sub(lambda m: filled[int(m.group(1))], template)

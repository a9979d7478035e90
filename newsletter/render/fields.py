"""Merge fields become placeholder tokens before anything is rendered.

Each ``{{ ... }}`` in an editor's text is replaced by ``%%MF<i>%%`` (``content.merge.token``)
before Markdown and Jinja see the text, so a variant is rendered once and composition fills
the tokens per recipient. The same field with the same default shares one token.
"""
from __future__ import annotations

import re
from typing import Iterable

from newsletter.content import merge
from newsletter.content.merge import MergeField

# markdown-it percent-encodes '%' in link targets: %%MF3%% arrives as %25%25MF3%25%25.
_ENCODED_TOKEN = re.compile(r"%25%25MF(\d+)%25%25")


class FieldRegistry:
    """The merge fields of one variant: token -> MergeField, numbered in reading order."""

    def __init__(self, attributes: Iterable[str] = ()):
        self.attributes = list(attributes)
        self.fields: dict[str, MergeField] = {}
        self._by_key: dict[tuple[str, str], str] = {}

    def _token_for(self, field: MergeField) -> str:
        token = self._by_key.get(field.key)
        if token is None:
            token = merge.token(len(self.fields))
            self._by_key[field.key] = token
            self.fields[token] = field
        return token

    def tokenize(self, text: str) -> str:
        """``text`` with every merge field replaced by its token."""
        out, last = [], 0
        for field in merge.parse(text, self.attributes):
            out.append(text[last:field.start])
            out.append(self._token_for(field))
            last = field.end
        out.append(text[last:])
        return "".join(out)

    def link(self, name: str, default: str) -> str:
        """The token of a per-recipient link (``merge.LINK_FIELDS``) that composition fills;
        ``default`` serves where no recipient is known (the web archive)."""
        if name not in merge.LINK_FIELDS:
            raise ValueError(f"{name!r} is not one of {merge.LINK_FIELDS}")
        return self._token_for(MergeField(name, default, 0, 0))


def restore_tokens(html: str) -> str:
    return _ENCODED_TOKEN.sub(lambda m: merge.token(int(m.group(1))), html)

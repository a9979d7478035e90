"""What rendering hands to composition: one pre-rendered variant of an edition.

Rendering happens once per (edition, language, set of audience blocks shown); per-recipient
values are left as placeholder tokens (see ``content.merge.token``) that composition fills:
HTML-escaped in ``html``, raw in ``text`` and ``subject``.
"""
from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass, field
from functools import cached_property

from newsletter.content.merge import MergeField, token_re


def variant_key(language: str, audiences: tuple[str, ...] | list[str]) -> str:
    """The one name of a variant, stable and file-name-safe: 'en', 'de+leaders' (audiences
    sorted). Build output folders, plans, journals and previews all use it."""
    return "+".join((language, *audiences))


@dataclass(frozen=True)
class RenderedVariant:
    edition: str
    language: str
    audiences: tuple[str, ...]          # segment names whose audience blocks are shown (sorted)
    subject: str                        # may hold placeholder tokens
    preheader: str
    html: str                           # the complete, inlined HTML document, with tokens
    text: str                           # the plain-text part, with tokens
    fields: dict[str, MergeField] = field(default_factory=dict)  # token -> merge field
    salt: str = ""                      # of the placeholders, see render.fields

    @cached_property
    def token_re(self) -> re.Pattern[str]:
        """The placeholders of this variant, and nothing else (``content.merge.token``)."""
        return token_re(self.salt)

    def fill_defaults(self, text: str, *, escape: bool = False) -> str:
        """``text`` with each placeholder replaced by its field's default, as the web archive
        shows it (HTML-escaped when ``escape``)."""
        def one(m: re.Match[str]) -> str:
            f = self.fields.get(m.group(0))
            value = f.default if f is not None else ""
            return htmllib.escape(value) if escape else value
        return self.token_re.sub(one, text)

    @property
    def key(self) -> str:
        """A stable, file-name-safe name: 'en', 'de+leaders'."""
        return variant_key(self.language, self.audiences)

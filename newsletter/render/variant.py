"""What rendering hands to composition: one pre-rendered variant of an edition.

Rendering happens once per (edition, language, set of audience blocks shown); per-recipient
values are left as placeholder tokens (see ``content.merge.token``) that composition fills:
HTML-escaped in ``html``, raw in ``text`` and ``subject``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from newsletter.content.merge import MergeField


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

    @property
    def key(self) -> str:
        """A stable, file-name-safe name: 'en', 'de+leaders'."""
        return variant_key(self.language, self.audiences)

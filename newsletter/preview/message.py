"""The message a sample subscriber would receive, made by the same Composer `send` uses.

The preview shows exactly what composition produces: its merge values (escaped for HTML by
the same code), its links, its headers. Two things differ on purpose: tokens are signed with
a preview-only key, so an unsubscribe link copied from the preview never works, and nobody's
secret key file is created just to look at an edition.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import default as default_policy

from newsletter.compose.composer import Composer, Recipient
from newsletter.compose.reference import fill
from newsletter.compose.rewrap import filled_text
from newsletter.core.config import Settings
from newsletter.render.variant import RenderedVariant
from newsletter.preview.samples import Sample

PREVIEW_KEY = b"newsletter preview: tokens signed with this key are never valid"
NOBODY_ADDRESS = "reader@example.org"


@dataclass(frozen=True)
class PreviewMessage:
    """What the preview shows of one composed message (not the bytes: see compose.qp.MessageBytes)."""

    subject: str
    preheader: str
    html: str
    text: str
    headers: str                        # the header block as sent (folded, encoded words)
    decoded: list[tuple[str, str]]      # the same headers as a person reads them

    def header(self, name: str) -> str:
        return next((value for key, value in self.decoded if key.lower() == name.lower()), "")


def composer_for(variant: RenderedVariant, settings: Settings) -> Composer:
    return Composer(variant, settings, PREVIEW_KEY, clock=_now, campaign=f"preview-{variant.edition}")


def recipient(variant: RenderedVariant, sample: Sample | None) -> Recipient:
    """The sample subscriber, or a nameless reader whose merge fields show their defaults."""
    if sample is None:
        return Recipient(id="preview", email=NOBODY_ADDRESS, variant=variant.key)
    return Recipient(id=sample.id, email=sample.key, name=str(sample.data.get("name") or ""),
                     merge_data=sample.data, variant=variant.key)


def message_for(composer: Composer, sample: Sample | None) -> PreviewMessage:
    variant = composer.variant
    person = recipient(variant, sample)
    fields = composer.fields_for(person)
    head = composer.compose(person).split(b"\r\n\r\n", 1)[0] + b"\r\n"
    parsed = BytesHeaderParser(policy=default_policy).parsebytes(head + b"\r\n")
    return PreviewMessage(
        subject=composer.subject_for(fields),
        preheader=fill(variant.preheader, fields.values),
        html=fill(variant.html, fields.values, escape=True),
        text=filled_text(variant.text, variant.token_re, composer._fields, fields.values, variant.salt),
        headers=head.decode("ascii").replace("\r\n", "\n"),
        decoded=[(name, str(value)) for name, value in parsed.items()],
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)

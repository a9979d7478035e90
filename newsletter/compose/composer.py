"""Composition: a rendered variant and one recipient -> the bytes of one campaign message.

A campaign composes one message per recipient, so the work is split in two. ``Composer``
runs once per variant: it takes the settings (checked where they are written, in core.config),
builds the headers that are the same for everyone, and quoted-printable encodes the text and HTML parts around the merge
placeholders (``%%MF<i>%%``, see ``content.merge.token``). ``Composer.compose`` then only encodes the recipient's own values
and joins pre-encoded bytes. That works because quoted-printable allows a soft line break
(``=`` CRLF) anywhere: each piece is encoded on its own (with the C ``binascii.b2a_qp``) and the
pieces are joined with soft breaks, which decode to nothing.

The message is multipart/alternative (text/plain first, text/html last), UTF-8,
quoted-printable, with From, To, Subject, Date, Message-ID, Reply-To, List-Id,
List-Unsubscribe (+ One-Click, RFC 8058), Precedence and MIME-Version headers.
``reference.reference_message`` builds the same message with the standard library's
``EmailMessage``; tests compare the two and the benchmark times them. Header values are made
in ``headers``, the quoted-printable parts in ``qp``.

Header safety: values from data (names, merge values) pass ``header_text``, which turns every
control character (CR and LF among them) into a space, so no value can end a header line.
A value that holds ``=?`` or anything beyond printable ASCII is written as RFC 2047 encoded
words, so it reads back literally and cannot smuggle in an encoded word of its own. Addresses
are checked and refused (``ComposeError``), never repaired.
"""
from __future__ import annotations

import hashlib
import html
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from typing import Any, Callable, Mapping, Protocol

from newsletter.compose.headers import (address_words, ascii_domain, checked_address, fold,
                                        header_text, phrase_words, text_words)
from newsletter.compose.dkim import DkimSigner, relaxed_body, relaxed_end, relaxed_lines
from newsletter.compose import rewrap
from newsletter.compose.qp import Body, MessageBytes, Piece, qp_value
from newsletter.core import tokens, verp
from newsletter.core.config import Settings
from newsletter.content.merge import LINK_FIELDS, URL_FIELD, MergeField, fill_url, url_problem, value_for
from newsletter.core.errors import ComposeError, RenderError
from newsletter.render.variant import RenderedVariant

log = logging.getLogger(__name__)

# "==" never occurs in quoted-printable output (a literal "=" is always "=3D"), so this
# boundary cannot collide with either part, whatever they hold.
BOUNDARY = "==newsletter-alternative=="


class RecipientLike(Protocol):
    id: int | str
    email: str
    name: str
    merge_data: Mapping[str, Any]


@dataclass(frozen=True)
class Recipient:
    """One person a campaign sends to. ``merge_data`` is ``Subscriber.merge_data()``: email,
    name, first_name, last_name, language, country and attributes. ``variant`` is the key of
    the rendered variant this person receives (``RenderedVariant.key``)."""

    id: int | str
    email: str
    name: str = ""
    merge_data: Mapping[str, Any] = field(default_factory=dict)
    variant: str = ""


# -- settings, checked once -----------------------------------------------------------------

@dataclass(frozen=True)
class _Site:
    """Everything the composer needs from settings, checked, in the form headers take."""

    from_name: str
    from_address: str
    reply_to: str | None
    list_id: str
    list_name: str
    unsubscribe_url: str
    preferences_url: str | None
    unsubscribe_mailto: str | None
    msgid_domain: str

    @classmethod
    def from_settings(cls, settings: Settings) -> _Site:
        """Settings were checked where they were written (core.config: addresses, List-Id,
        URLs); here they only take the form headers need (ASCII domains, one-line names)."""
        sender, urls = settings.sender, settings.urls
        return cls(
            from_name=header_text(sender.from_name),
            from_address=_header_address(sender.from_address),
            reply_to=_header_address(sender.reply_to),
            list_id=settings.list_id,
            list_name=header_text(settings.organisation.name),
            unsubscribe_url=urls.unsubscribe,
            preferences_url=urls.preferences,
            unsubscribe_mailto=_header_address(urls.unsubscribe_mailto),
            msgid_domain=ascii_domain(settings.msgid_domain),
        )

    def link(self, base: str, token: str) -> str:
        return f"{base}{'&' if '?' in base else '?'}token={token}"


def _header_address(address: str | None) -> str | None:
    """A checked address with its domain in ASCII (IDNA), as headers carry it."""
    if address is None:
        return None
    local, _, domain = address.rpartition("@")
    return f"{local}@{ascii_domain(domain)}"


# -- the composer ---------------------------------------------------------------------------

class Composer:
    """Prepared once per variant and campaign; ``compose`` is then called per recipient.
    Pure: the clock, the campaign name and all URLs are inputs, so the same inputs give the
    same bytes. Thread-safe (no state changes after construction)."""

    def __init__(self, variant: RenderedVariant, settings: Settings, secret_key: bytes, *,
                 clock: Callable[[], datetime], campaign: str, subject_prefix: str = "",
                 dkim: DkimSigner | None = None):
        self.variant = variant
        self._dkim = dkim
        self.campaign = campaign
        self._secret = secret_key
        self._clock = clock
        self._site = site = _Site.from_settings(settings)
        self._fields = _fields_by_index(variant)
        self._urls = {i: f for i, f in self._fields.items() if f.field == URL_FIELD}
        self._subject = variant.token_re.split(subject_prefix + variant.subject)
        # Paragraphs of the text part that hold merge fields are filled and re-wrapped per
        # recipient (rewrap): values can push a line past 78 columns.
        text, self._paragraphs = rewrap.split(variant.text, variant.token_re, self._fields, variant.salt)
        self._text = Body(text, variant.token_re)
        self._html = Body(variant.html, variant.token_re)
        self._fallbacks = 0
        self._fallback_lock = threading.Lock()
        self._wants_preferences = any(f.field == "preferences_url" for f in self._fields.values())
        self._from, self._list, self._mime = self._static_headers(site)
        self._text_head = _part_head("plain")
        self._html_head = b"\r\n" + _part_head("html")
        self._tail = f"\r\n--{BOUNDARY}--\r\n".encode("ascii")
        self._relaxed_frame = [relaxed_lines(b) for b in (self._text_head, self._html_head, self._tail)]
        bounce_domain = settings.delivery.bounce_domain   # checked in core.config
        self._bounce_domain = ascii_domain(bounce_domain) if bounce_domain else None

    @staticmethod
    def _static_headers(site: _Site) -> tuple[bytes, bytes, bytes]:
        """The headers that are the same for every recipient, in three runs that go between
        the recipient's own, so that the order is: Date, From, To, Subject, Message-ID,
        Reply-To, List-Id, List-Unsubscribe, List-Unsubscribe-Post, Precedence, MIME-Version,
        Content-Type."""
        sender = fold("From", address_words(site.from_name, site.from_address))
        listing = f"Reply-To: {site.reply_to}\r\n" if site.reply_to else ""
        listing += fold("List-Id", [*phrase_words(site.list_name), f"<{site.list_id}>"])
        mime = ("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
                "Precedence: bulk\r\n"
                "MIME-Version: 1.0\r\n"
                f'Content-Type: multipart/alternative; boundary="{BOUNDARY}"\r\n\r\n')
        return sender.encode("ascii"), listing.encode("ascii"), mime.encode("ascii")

    def compose(self, recipient: RecipientLike) -> MessageBytes:
        """The complete message for ``recipient``, CRLF line ends, ready for SMTP DATA."""
        fields = self.fields_for(recipient)
        date, to, msgid, unsubscribe = self.recipient_headers(recipient, fields)
        text_values = {i: qp_value(v) for i, v in fields.values.items()}
        for slot, paragraph in self._paragraphs.items():
            text_values[slot] = qp_value(paragraph.fill(fields.values))
        html_values = {i: qp_value(html.escape(v)) for i, v in fields.values.items()}
        head = b"".join((date, self._from, to, msgid, self._list, unsubscribe, self._mime))
        if self._dkim is not None:   # self._mime ends with the blank line: head[:-2] is the header block
            body, body_hash = self._signed_body(text_values, html_values)
            return MessageBytes(self._dkim.signature_for_hash(head[:-2], body_hash) + head + body)
        text, htm = self._text.encode(text_values), self._html.encode(html_values)
        return MessageBytes(head + b"".join((self._text_head, text, self._html_head, htm, self._tail)))

    def _signed_body(self, text_values: dict[int, Piece], html_values: dict[int, Piece]) -> tuple[bytes, bytes]:
        """The body and the SHA-256 of its relaxed canonical form (DKIM's body hash), made from
        the parts' pieces canonicalised once per variant rather than by scanning the whole
        body again per message (the scan was most of the cost of signing)."""
        text, text_relaxed = self._text.encode_relaxed(text_values, relaxed_lines)
        htm, html_relaxed = self._html.encode_relaxed(html_values, relaxed_lines)
        body = b"".join((self._text_head, text, self._html_head, htm, self._tail))
        if text_relaxed is None or html_relaxed is None:
            return body, hashlib.sha256(relaxed_body(body)).digest()
        text_head, html_head, tail = self._relaxed_frame
        relaxed = b"".join((text_head, text_relaxed, html_head, html_relaxed, tail))
        return body, hashlib.sha256(relaxed_end(relaxed)).digest()

    def fields_for(self, recipient: RecipientLike) -> _Filled:
        """The recipient's token and the raw value of every placeholder."""
        site = self._site
        # The unsubscribe link names its campaign (signed), so the unsubscribe is recorded
        # against the campaign that was read.
        token = tokens.make_token(self._secret, recipient.id, site.list_id, tokens.UNSUBSCRIBE,
                                  claim=self.campaign)
        links = {"unsubscribe_url": site.link(site.unsubscribe_url, token)}
        if self._wants_preferences:
            # Without a preferences page the link leads to the unsubscribe page, which asks
            # before it acts: better than a dead link.
            base = site.preferences_url or site.unsubscribe_url
            purpose = tokens.PREFERENCES if site.preferences_url else tokens.UNSUBSCRIBE
            pref = tokens.make_token(self._secret, recipient.id, site.list_id, purpose)
            links["preferences_url"] = site.link(base, pref)
        data = recipient.merge_data
        values = {i: links[f.field] if f.field in LINK_FIELDS else _merge_value(f, data)
                  for i, f in self._fields.items() if i not in self._urls}
        fallbacks = self._fill_links(values)
        return _Filled(token, links["unsubscribe_url"], values, fallbacks)

    def _fill_links(self, values: dict[int, str]) -> int:
        """Fill the links that hold merge fields, in ``values``. A link that is not http(s) or
        mailto once the recipient's values are in (``javascript:`` from an imported
        spreadsheet, a centre's name where its web address should be) gets the defaults.
        Returns how many did."""
        fallbacks = 0
        for i, f in self._urls.items():
            url = fill_url(f.template, self.variant.token_re, values.__getitem__)
            if url_problem(url) is not None:
                url, fallbacks = f.default, fallbacks + 1
            values[i] = url
        if fallbacks:
            with self._fallback_lock:
                self._fallbacks += fallbacks
        return fallbacks

    @property
    def url_fallbacks(self) -> int:
        """How many links, over all messages composed so far, got their defaults because the
        recipient's values did not make an http(s) or mailto link (for the send summary)."""
        return self._fallbacks

    def recipient_headers(self, recipient: RecipientLike, fields: _Filled) -> tuple[bytes, ...]:
        """Date; To and Subject; Message-ID; List-Unsubscribe."""
        to = recipient_address(recipient)
        return (
            f"Date: {format_datetime(self._clock())}\r\n".encode("ascii"),
            (fold("To", address_words(header_text(recipient.name or ""), to))
             + fold("Subject", text_words(self.subject_for(fields)))).encode("ascii"),
            f"Message-ID: {self.message_id(recipient)}\r\n".encode("ascii"),
            fold("List-Unsubscribe", self.list_unsubscribe(fields).split(" ")).encode("ascii"),
        )

    def subject_for(self, fields: _Filled) -> str:
        parts = self._subject
        filled = [parts[0]]
        for slot, static in zip(parts[1::2], parts[2::2]):
            filled += [fields.values[int(slot)], static]
        return header_text("".join(filled))

    def message_id(self, recipient: RecipientLike) -> str:
        """Unique per campaign and recipient, and the same on a resend, so a receiving server
        that remembers Message-IDs can drop a duplicate left by a crash."""
        key = f"{self.campaign}\0{self.variant.key}\0{recipient.id}".encode("utf-8")
        return f"<{hashlib.sha256(key).hexdigest()[:32]}@{self._site.msgid_domain}>"

    def envelope_from(self, recipient: RecipientLike) -> str | None:
        """The SMTP envelope sender: with ``delivery.bounce_domain`` a VERP address naming this
        recipient and campaign (core/verp.py), so that bounces identify them; else None (the
        sender's own choice). Test and dry-run messages (no numeric ids) get None too."""
        if self._bounce_domain and self.campaign.isdigit() and str(recipient.id).isdigit():
            return verp.return_path(self._secret, recipient.id, self.campaign, self._bounce_domain)
        return None

    def list_unsubscribe(self, fields: _Filled) -> str:
        value = f"<{fields.unsubscribe_url}>"
        if self._site.unsubscribe_mailto:
            value += f", <mailto:{self._site.unsubscribe_mailto}?subject=unsubscribe%20{fields.token}>"
        return value


@dataclass(frozen=True)
class _Filled:
    token: str
    unsubscribe_url: str
    values: dict[int, str]
    url_fallbacks: int = 0   # links of this message that got their defaults


def _merge_value(merge_field: MergeField, data: Any) -> str:
    """The value as single-line text; one that is nothing but control characters and spaces
    counts as missing, so the field's default stands in."""
    return header_text(value_for(merge_field, data)) or header_text(merge_field.default)


def _part_head(subtype: str) -> bytes:
    return (f"--{BOUNDARY}\r\nContent-Type: text/{subtype}; charset=\"utf-8\"\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n").encode("ascii")


def recipient_address(recipient: RecipientLike) -> str:
    try:
        return checked_address(recipient.email)
    except ValueError as exc:
        raise ComposeError(f"subscriber {recipient.id}: address {recipient.email!r}: {exc}") from None


def _fields_by_index(variant: RenderedVariant) -> dict[int, MergeField]:
    """Placeholder index -> merge field; every placeholder in the variant must be known."""
    fields = {}
    for tok, merge_field in variant.fields.items():
        match = variant.token_re.fullmatch(tok)
        if match is None:
            raise RenderError(f"variant {variant.key}: {tok!r} is not a placeholder token")
        fields[int(match.group(1))] = merge_field
    used = {int(i) for part in (variant.subject, variant.text, variant.html,
                                *(f.template for f in variant.fields.values()))
            for i in variant.token_re.findall(part)}
    unknown = sorted(used - fields.keys())
    if unknown:
        raise RenderError(f"variant {variant.key}: placeholders {unknown} have no merge field")
    return fields



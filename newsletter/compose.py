"""Composition: a rendered variant and one recipient -> the bytes of one campaign message.

A campaign composes one message per recipient, so the work is split in two. ``Composer``
runs once per variant: it checks every value that comes from settings, builds the headers that
are the same for everyone, and quoted-printable encodes the text and HTML parts around the merge
placeholders (``%%MF<i>%%``). ``Composer.compose`` then only encodes the recipient's own values
and joins pre-encoded bytes. That works because quoted-printable allows a soft line break
(``=`` CRLF) anywhere: each piece is encoded on its own (with the C ``binascii.b2a_qp``) and the
pieces are joined with soft breaks, which decode to nothing.

The message is multipart/alternative (text/plain first, text/html last), UTF-8,
quoted-printable, with From, To, Subject, Date, Message-ID, Reply-To, List-Id,
List-Unsubscribe (+ One-Click, RFC 8058), Precedence and MIME-Version headers.
``reference_message`` builds the same message with the standard library's ``EmailMessage``;
tests compare the two and the benchmark times them.

Header safety: values from data (names, merge values) pass ``header_text``, which turns every
control character (CR and LF among them) into a space, so no value can end a header line.
A value that holds ``=?`` or anything beyond printable ASCII is written as RFC 2047 encoded
words, so it reads back literally and cannot smuggle in an encoded word of its own. Addresses
are checked and refused (``ComposeError``), never repaired.
"""
from __future__ import annotations

import binascii
import hashlib
import html
import logging
import re
from base64 import b64encode
from dataclasses import dataclass, field
from datetime import datetime
from email import policy as email_policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from functools import lru_cache
from typing import Any, Callable, Mapping, Protocol, Sequence

import idna

from . import tokens
from .config import Settings
from .content.merge import LINK_FIELDS, TOKEN_RE, MergeField, value_for
from .errors import ConfigError, DeliveryError, RenderError
from .rendered import RenderedVariant

log = logging.getLogger(__name__)

# "==" never occurs in quoted-printable output (a literal "=" is always "=3D"), so this
# boundary cannot collide with either part, whatever they hold.
BOUNDARY = "==newsletter-alternative=="
MAX_LINE = 78            # RFC 5322 recommended header line length
EW_BYTES = 42            # UTF-8 bytes per encoded word: 56 base64 chars; "Subject: =?utf-8?b?...?=" is 77
QP_LINE = 76             # RFC 2045 quoted-printable line length, CRLF not counted
PLAIN_WORD_MAX = 70      # longer unbroken words are encoded so that they can be folded

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SPACES = re.compile(r" {2,}")
_ATEXT = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~\-"
_ATOM_PHRASE = re.compile(rf"[{_ATEXT} ]*\Z")
_LOCAL_PART = re.compile(rf"[{_ATEXT}]+(?:\.[{_ATEXT}]+)*\Z")
_DOMAIN_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)\Z")
_URL = re.compile(r"https?://[!#$%&'()*+,./0-9:;=?@A-Z\[\]_a-z~-]+\Z")


class ComposeError(DeliveryError):
    """A message cannot be built for one recipient (for example, the address is not usable)."""


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


# -- values that go into headers ----------------------------------------------------------

def header_text(value: str) -> str:
    """``value`` as one line of header-safe text: control characters (CR and LF among them)
    become spaces, runs of spaces collapse, the ends are trimmed. A line break in a name or a
    merge value never means anything, and without one no value can begin a header of its own."""
    return _SPACES.sub(" ", _CONTROL.sub(" ", value)).strip(" ")


def checked_address(address: str) -> str:
    """``address`` as it goes into a header and the SMTP envelope (an internationalised domain
    becomes its ASCII form), or ValueError saying what is wrong with it."""
    local, at, domain = address.rpartition("@")
    if not at or not local:
        raise ValueError("expected an address like name@example.org")
    if not _LOCAL_PART.match(local) or "=?" in local:
        raise ValueError(f"the part before '@' ({local!r}) is not a plain ASCII mailbox name")
    result = f"{local}@{ascii_domain(domain)}"
    if len(result) > 254:
        raise ValueError("longer than the 254 characters an address may have")
    return result


@lru_cache(maxsize=4096)
def ascii_domain(domain: str) -> str:
    """The ASCII (IDNA 2008) form of a domain name, or ValueError."""
    if not domain.isascii():
        try:
            domain = idna.encode(domain, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise ValueError(f"domain {domain!r} is not a valid internationalised name: {exc}") from None
    labels = domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.match(label) for label in labels):
        raise ValueError(f"domain {domain!r} is not a valid domain name")
    return domain


def encoded_words(text: str) -> list[str]:
    """RFC 2047 encoded words (UTF-8, base64), each holding whole characters and short enough
    that one fits on a folded header line."""
    data = text.encode("utf-8")
    words, start = [], 0
    while start < len(data):
        end = min(start + EW_BYTES, len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:  # not inside a UTF-8 sequence
            end -= 1
        words.append(f"=?utf-8?b?{b64encode(data[start:end]).decode('ascii')}?=")
        start = end
    return words


def _needs_encoding(text: str) -> bool:
    return not (text.isascii() and text.isprintable()) or "=?" in text


def _mixed_words(text: str, is_plain: Callable[[str], bool]) -> list[str]:
    """Words that can stand as they are stay plain; each run of the others becomes encoded
    words. A run is encoded together, spaces included, because the space between two
    adjacent encoded words is dropped when they are decoded."""
    out: list[str] = []
    run: list[str] = []
    for word in text.split(" "):
        if is_plain(word):
            if run:
                out += encoded_words(" ".join(run))
                run = []
            out.append(word)
        else:
            run.append(word)
    if run:
        out += encoded_words(" ".join(run))
    return out


def _plain_atom(word: str) -> bool:
    return 0 < len(word) <= PLAIN_WORD_MAX and "=?" not in word and bool(_ATOM_PHRASE.match(word))


def _plain_text(word: str) -> bool:
    return len(word) <= PLAIN_WORD_MAX and not _needs_encoding(word)


def phrase_words(name: str) -> list[str]:
    """A display name as RFC 5322 phrase words: atoms, one quoted string, or atoms and
    encoded words."""
    if not name:
        return []
    if not _needs_encoding(name) and max(map(len, name.split(" "))) <= PLAIN_WORD_MAX:
        if _ATOM_PHRASE.match(name):
            return name.split(" ")
        quoted = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return quoted.split(" ")   # folding at these spaces is FWS inside the quoted string
    return _mixed_words(name, _plain_atom)


def text_words(text: str) -> list[str]:
    """Unstructured header text (Subject) as words to fold: plain ASCII words as they are,
    the rest as encoded words."""
    return _mixed_words(text, _plain_text)


def fold(name: str, words: Sequence[str]) -> str:
    """``Name: word word ...`` with CRLF + space before a word that would pass column 78.
    Folding only replaces a space, so unfolding gives back exactly the text."""
    lines, line = [], name + ":"
    for word in words:
        if len(line) + 1 + len(word) > MAX_LINE and line != name + ":":
            lines.append(line)
            line = " " + word
        else:
            line += " " + word
    lines.append(line)
    return "\r\n".join(lines) + "\r\n"


def address_words(display_name: str, address: str) -> list[str]:
    words = phrase_words(display_name)
    return [*words, f"<{address}>"] if words else [address]


# -- values that go into bodies -----------------------------------------------------------

def _qp(text: str) -> bytes:
    """Quoted-printable, CRLF line ends, and no line starting with "." (see Message). ``text``
    has only LF line ends: b2a_qp picks its line end from the first one it sees, so it is
    given LF and the result converted."""
    return _dot_free(binascii.b2a_qp(text.encode("utf-8"), istext=True).replace(b"\n", b"\r\n"))


def _dot_free(encoded: bytes) -> bytes:
    """Quoted-printable text with a "." that starts a line written as "=2E": the same text
    once decoded, and nothing for SMTP's dot-stuffing to do."""
    if encoded.startswith(b"."):
        encoded = b"=2E" + encoded[1:]
    return encoded.replace(b"\n.", b"\n=2E")


class Message(bytes):
    """A composed message, in which no line starts with ".": header lines start with a name
    or a space, MIME lines with "--", and the quoted-printable bodies write such a "." as
    "=2E". So SMTP's dot-stuffing (RFC 5321 4.5.2), which otherwise scans every message
    (about 90 microseconds for 75 KB, a tenth of the sender's time), can pass it as it is."""

    needs_dot_stuffing = False


_SOFT_BREAK = b"=\r\n"
# An encoded piece with the length of its first line (-1: it has no line end) and its last line.
_Piece = tuple[bytes, int, int]


class _Body:
    """One part's text, encoded ahead of time except where the placeholders are."""

    def __init__(self, text: str):
        pieces = TOKEN_RE.split(text.replace("\r\n", "\n").replace("\r", "\n"))
        self.statics = [piece(_fit_lines(_qp(p))) for p in pieces[0::2]]
        self.static_ends_line = [p.endswith("\n") for p in pieces[0::2]]
        self.slots = [int(i) for i in pieces[1::2]]

    def encode(self, values: Mapping[int, _Piece]) -> bytes:
        """Join the pieces; a soft line break goes wherever a line would pass 76 characters.
        A line left open after a piece keeps room for the "=" of a later soft break."""
        out = [self.statics[0][0]]
        column = self.statics[0][2]
        ends_line = self.static_ends_line[0]
        for slot, static, static_ends_line in zip(self.slots, self.statics[1:], self.static_ends_line[1:]):
            value = values[slot]
            for data, first, last in (value, static):
                if not data:
                    continue
                if first < 0:
                    if column + len(data) > QP_LINE - 1:
                        out.append(_SOFT_BREAK)
                        column = 0
                    column += len(data)
                else:
                    if column + first > QP_LINE:
                        out.append(_SOFT_BREAK)
                    column = last
                out.append(data)
            # Values are single-line: the text ends a line only if the last non-empty piece does.
            ends_line = static_ends_line if static[0] else (ends_line and not value[0])
        if not ends_line:
            out.append(b"\r\n")   # like EmailMessage.set_content, every part ends with a line end
        return b"".join(out)


def piece(encoded: bytes) -> _Piece:
    return encoded, encoded.find(b"\r\n"), _last_line(encoded)


def _last_line(encoded: bytes) -> int:
    return len(encoded) - encoded.rfind(b"\n") - 1


def _fit_lines(encoded: bytes) -> bytes:
    """Every line at most 76 characters, the last at most 75 so that joining can still add the
    "=" of a soft break after it. b2a_qp can give 76 on a last line and, when it encodes a space
    before a line end as "=20", 77 (a CPython bug); such lines are split with soft breaks."""
    lines = encoded.split(b"\r\n")
    if len(lines[-1]) < QP_LINE and all(len(line) <= QP_LINE for line in lines):
        return encoded
    out = []
    for number, line in enumerate(lines, start=1):
        limit = QP_LINE if number < len(lines) else QP_LINE - 1
        while len(line) > limit:
            cut = _cut(line, QP_LINE - 1)
            out.append(line[:cut] + b"=")
            line = _dot_free(line[cut:])  # the cut may have left a "." first on the new line
        out.append(line)
    return b"\r\n".join(out)


def _cut(line: bytes, most: int) -> int:
    """The longest prefix of ``line`` of at most ``most`` bytes that does not split an "=XX"."""
    cut = 0
    while True:
        step = 3 if line[cut:cut + 1] == b"=" else 1
        if cut + step > most:
            return cut
        cut += step


def _qp_value(value: str) -> _Piece:
    return piece(_fit_lines(_qp(value)))


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
        sender, urls = settings.sender, settings.urls
        mailto = urls.unsubscribe_mailto
        if mailto and mailto.lower().startswith("mailto:"):
            mailto = mailto[len("mailto:"):]
        return cls(
            from_name=header_text(sender.from_name),
            from_address=_setting(checked_address, "sender.from_address", sender.from_address),
            reply_to=_setting(checked_address, "sender.reply_to", sender.reply_to),
            list_id=_setting(_check_list_id, "list_id", settings.list_id),
            list_name=header_text(settings.organisation.name),
            unsubscribe_url=_setting(_check_url, "urls.unsubscribe", urls.unsubscribe),
            preferences_url=_setting(_check_url, "urls.preferences", urls.preferences),
            unsubscribe_mailto=_setting(checked_address, "urls.unsubscribe_mailto", mailto),
            msgid_domain=_setting(ascii_domain, "message_id_domain", settings.msgid_domain),
        )

    def link(self, base: str, token: str) -> str:
        return f"{base}{'&' if '?' in base else '?'}token={token}"


def _setting(check: Callable[[str], str], name: str, value: str | None) -> Any:
    if value is None:
        return None
    try:
        return check(value)
    except ValueError as exc:
        raise ConfigError(f"newsletter.yaml: {name}: {exc}; got {value!r}") from None


def _check_list_id(value: str) -> str:
    if not re.fullmatch(rf"[{_ATEXT}]+(\.[{_ATEXT}]+)+", value):
        raise ValueError("expected a dotted name like news.example.org (RFC 2919)")
    return value


def _check_url(value: str) -> str:
    if not _URL.match(value):
        raise ValueError("expected an http(s) URL of plain ASCII characters, without spaces")
    if value.startswith("http:"):
        log.warning("%s is not HTTPS; mail providers ignore one-click unsubscribe over HTTP", value)
    return value


# -- the composer ---------------------------------------------------------------------------

class Composer:
    """Prepared once per variant and campaign; ``compose`` is then called per recipient.
    Pure: the clock, the campaign name and all URLs are inputs, so the same inputs give the
    same bytes. Thread-safe (no state changes after construction)."""

    def __init__(self, variant: RenderedVariant, settings: Settings, secret_key: bytes, *,
                 clock: Callable[[], datetime], campaign: str, subject_prefix: str = ""):
        self.variant = variant
        self.campaign = campaign
        self._secret = secret_key
        self._clock = clock
        self._site = site = _Site.from_settings(settings)
        self._fields = _fields_by_index(variant)
        self._subject = TOKEN_RE.split(subject_prefix + variant.subject)
        self._text = _Body(variant.text)
        self._html = _Body(variant.html)
        self._wants_preferences = any(f.field == "preferences_url" for f in self._fields.values())
        self._from, self._list, self._mime = self._static_headers(site)
        self._text_head = _part_head("plain")
        self._html_head = b"\r\n" + _part_head("html")
        self._tail = f"\r\n--{BOUNDARY}--\r\n".encode("ascii")

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

    def compose(self, recipient: RecipientLike) -> Message:
        """The complete message for ``recipient``, CRLF line ends, ready for SMTP DATA."""
        fields = self.fields_for(recipient)
        date, to, msgid, unsubscribe = self.recipient_headers(recipient, fields)
        text = self._text.encode({i: _qp_value(v) for i, v in fields.values.items()})
        htm = self._html.encode({i: _qp_value(html.escape(v)) for i, v in fields.values.items()})
        return Message(b"".join((date, self._from, to, msgid, self._list, unsubscribe, self._mime,
                                 self._text_head, text, self._html_head, htm, self._tail)))

    def fields_for(self, recipient: RecipientLike) -> _Filled:
        """The recipient's token and the raw value of every placeholder."""
        site = self._site
        token = tokens.make_token(self._secret, recipient.id, site.list_id, tokens.UNSUBSCRIBE)
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
                  for i, f in self._fields.items()}
        return _Filled(token, links["unsubscribe_url"], values)

    def recipient_headers(self, recipient: RecipientLike, fields: _Filled) -> tuple[bytes, ...]:
        """Date; To and Subject; Message-ID; List-Unsubscribe."""
        to = _recipient_address(recipient)
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


def _merge_value(merge_field: MergeField, data: Any) -> str:
    """The value as single-line text; one that is nothing but control characters and spaces
    counts as missing, so the field's default stands in."""
    return header_text(value_for(merge_field, data)) or header_text(merge_field.default)


def _part_head(subtype: str) -> bytes:
    return (f"--{BOUNDARY}\r\nContent-Type: text/{subtype}; charset=\"utf-8\"\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n").encode("ascii")


def _recipient_address(recipient: RecipientLike) -> str:
    try:
        return checked_address(recipient.email)
    except ValueError as exc:
        raise ComposeError(f"subscriber {recipient.id}: address {recipient.email!r}: {exc}") from None


def _fields_by_index(variant: RenderedVariant) -> dict[int, MergeField]:
    """Placeholder index -> merge field; every placeholder in the variant must be known."""
    fields = {}
    for tok, merge_field in variant.fields.items():
        match = TOKEN_RE.fullmatch(tok)
        if match is None:
            raise RenderError(f"variant {variant.key}: {tok!r} is not a placeholder token")
        fields[int(match.group(1))] = merge_field
    used = {int(i) for part in (variant.subject, variant.text, variant.html)
            for i in TOKEN_RE.findall(part)}
    unknown = sorted(used - fields.keys())
    if unknown:
        raise RenderError(f"variant {variant.key}: placeholders {unknown} have no merge field")
    return fields


# -- the same message through the standard library ---------------------------------------------

def fill(template: str, values: Mapping[int, str], escape: bool = False) -> str:
    """``template`` with every placeholder replaced (HTML-escaped when ``escape``)."""
    conv = html.escape if escape else str
    return TOKEN_RE.sub(lambda m: conv(values[int(m.group(1))]), template)


def reference_message(composer: Composer, recipient: RecipientLike, *, folded: bool = True) -> bytes:
    """What ``composer.compose(recipient)`` builds, built with ``EmailMessage`` instead: the
    same values (filled the same way) encoded and serialised by the standard library. Tests
    compare the two; the benchmark times them.

    ``folded=False`` serialises without folding header lines. The tests use it because the
    standard library's folding (3.11) has bugs that would make the reference the wrong one:
    a long display name holding ``:`` loses its quotes (so ``Bcc: ...`` in a name turns into
    group syntax), and a space next to a non-ASCII space can disappear."""
    site, variant = composer._site, composer.variant
    fields = composer.fields_for(recipient)
    msg = EmailMessage(policy=email_policy.SMTP)
    msg["Date"] = format_datetime(composer._clock())
    msg["From"] = Address(site.from_name, addr_spec=site.from_address)
    msg["To"] = Address(header_text(recipient.name or ""), addr_spec=_recipient_address(recipient))
    msg["Subject"] = composer.subject_for(fields)
    msg["Message-ID"] = composer.message_id(recipient)
    if site.reply_to:
        msg["Reply-To"] = site.reply_to
    msg["List-Id"] = " ".join([*phrase_words(site.list_name), f"<{site.list_id}>"])
    msg["List-Unsubscribe"] = composer.list_unsubscribe(fields)
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["Precedence"] = "bulk"
    msg.set_content(fill(variant.text, fields.values), cte="quoted-printable")
    msg.add_alternative(fill(variant.html, fields.values, escape=True), subtype="html",
                        cte="quoted-printable")
    # add_alternative leaves a MIME-Version header in the new part; it belongs only on top.
    del msg.get_payload()[1]["MIME-Version"]
    return msg.as_bytes(policy=msg.policy if folded else msg.policy.clone(max_line_length=None))

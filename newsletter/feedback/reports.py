"""Reading one message from the feedback mailbox: what it is, and the events it reports.

One reader per kind of message (Mautic's monitored-email processors), tried in this order:

1. delivery status notifications (RFC 3464 ``multipart/report; report-type=delivery-status``):
   ``Action``, ``Status``, ``Final-Recipient``, ``Diagnostic-Code`` per recipient;
2. abuse reports (ARF, RFC 5965 ``report-type=feedback-report``) -> complaint;
3. mailto unsubscribe requests (the token in the subject or the address) -> unsubscribe;
4. auto-replies (RFC 3834 ``Auto-Submitted``, vacation notices) -> ignored; this comes after
   the reports because MTAs mark their DSNs ``Auto-Submitted: auto-replied`` too;
5. any other bounce format flufl.bounce recognises (qmail, Exim, Exchange, ...);
6. anything else: ``unknown``, kept in the mailbox and counted, never deleted.

Who a report is about is found the way Mailman does it, surest first: the VERP return path it
was sent back to (core/verp.py); then the unsubscribe token in the original message's
``List-Unsubscribe`` header (from a ``message/rfc822`` part or only ``text/rfc822-headers``);
then the address the report names, looked up in the subscriber list.
"""
from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses, parseaddr
from typing import Callable

from newsletter.core import tokens, verp
from newsletter.delivery.replies import Verdict, classify_status
from newsletter.feedback.events import COMPLAINT, DELAY, HARD_BOUNCE, SOFT_BOUNCE, UNSUBSCRIBE, Event

log = logging.getLogger(__name__)

# What a message was.
BOUNCE, DELAYED, DELIVERED, ABUSE, UNSUBSCRIBE_REQUEST, AUTO_REPLY, UNKNOWN = (
    "bounce", "delay", "delivery report", "complaint", "unsubscribe", "auto-reply", "unknown")
ENVELOPE_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To", "Cc")
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
# An unsubscribe token: subject[.claim].signature, base64url (core/tokens.py).
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,40}(?:\.[A-Za-z0-9_-]{1,40})?\.[A-Za-z0-9_-]{20,}")
_VACATION = re.compile(
    r"^\s*(auto(matic)?[ -]?(reply|response|antwort)|out of (the )?office|abwesen|vacation|"
    r"away from|respuesta autom|r[ée]ponse automatique|absence|auto:)", re.IGNORECASE)
_COMPLAINT_TYPES = {"abuse", "fraud", "virus"}


@dataclass(frozen=True)
class Context:
    """What reading needs from the workspace: the secret (VERP codes and unsubscribe tokens),
    the list id, the bounce domain and unsubscribe address, and a way to find a subscriber id
    by address."""

    secret_key: bytes
    list_id: str
    bounce_domain: str | None = None
    unsubscribe_address: str | None = None
    find_subscriber: Callable[[str], int | None] = lambda _email: None


@dataclass
class Reading:
    """What one message was (``verdict``), the events it reports, and a line for people."""

    message_id: str
    verdict: str
    events: list[Event] = field(default_factory=list)
    summary: str = ""

    @property
    def understood(self) -> bool:
        return self.verdict != UNKNOWN


def message_key(raw: bytes, msg: Message | None) -> str:
    """How a message is remembered: its Message-ID, or a hash of it when it has none."""
    mid = _header(msg, "Message-ID") if msg is not None else ""
    return mid.strip() or "sha256:" + hashlib.sha256(raw).hexdigest()


def read(raw: bytes, ctx: Context) -> Reading:
    """What ``raw`` (one whole message) is. Never raises for bad input: a message that
    cannot be parsed is ``unknown``."""
    try:
        msg = message_from_bytes(raw, policy=policy.compat32)
    except Exception as exc:  # noqa: BLE001 - hostile input must not stop the mailbox
        return Reading(message_key(raw, None), UNKNOWN, summary=f"cannot be parsed: {exc}")
    key = message_key(raw, msg)
    for reader in (_dsn, _arf, _unsubscribe, _auto_reply, _other_bounce):
        try:
            found = reader(msg, key, ctx)
        except Exception as exc:  # noqa: BLE001
            log.warning("message %s: %s failed: %r", key, reader.__name__, exc)
            found = None
        if found is not None:
            return found
    return Reading(key, UNKNOWN, summary=f"not understood: {_header(msg, 'Subject')[:80]!r}")


# -- 1. delivery status notifications --------------------------------------------------------

def _dsn(msg: Message, key: str, ctx: Context) -> Reading | None:
    status_part = _part(msg, "message/delivery-status")
    if status_part is None:
        return None
    blocks = _blocks(status_part)
    if len(blocks) < 2:
        return None
    who = _Who.of(msg, ctx)
    events = []
    verdicts = set()
    for block in blocks[1:]:
        event = _dsn_event(block, key, who, ctx)
        if event is None:
            verdicts.add(DELIVERED)
            continue
        events.append(event)
        verdicts.add(DELAYED if event.kind == DELAY else BOUNCE)
    verdict = BOUNCE if BOUNCE in verdicts else DELAYED if DELAYED in verdicts else DELIVERED
    summary = "; ".join(f"{e.kind} {e.email} {e.status}".strip() for e in events) or "delivered"
    return Reading(key, verdict, events, summary)


def _dsn_event(block: Message, key: str, who: _Who, ctx: Context) -> Event | None:
    action = _header(block, "Action").lower().split(";")[0].strip()
    recipient = _address_field(_header(block, "Final-Recipient") or _header(block, "Original-Recipient"))
    diagnostic = " ".join(_header(block, "Diagnostic-Code").partition(";")[2].split())
    status = _status(_header(block, "Status")) or _status(diagnostic)
    if action == "delayed":
        kind = DELAY
    elif action == "failed":
        kind = _bounce_kind(status, diagnostic)
    else:
        return None     # delivered, relayed, expanded: nothing went wrong
    sid, cid = who.resolve(recipient, ctx)
    return Event(kind, f"mailbox:{key}:{recipient.lower()}:{action}", "mailbox", recipient, sid, cid,
                 status, diagnostic, {"action": action})


def _bounce_kind(status: str, diagnostic: str) -> str:
    """Hard only when the table says the address is bad (5.1.x); 4.x.x never is. A failure
    without any status code counts as hard only if its reply looks like "550 user unknown"."""
    if status:
        return HARD_BOUNCE if classify_status(status).verdict is Verdict.HARD_BOUNCE else SOFT_BOUNCE
    basic = re.match(r"\s*(\d{3})\b", diagnostic)
    return HARD_BOUNCE if basic and basic[1] in ("550", "551", "553") else SOFT_BOUNCE


def _status(text: str) -> str:
    match = _STATUS.search(text or "")
    return ".".join(match.groups()) if match else ""


# -- 2. abuse reports (ARF) -------------------------------------------------------------------

def _arf(msg: Message, key: str, ctx: Context) -> Reading | None:
    part = _part(msg, "message/feedback-report")
    if part is None:
        return None
    fields = _blocks(part)
    report = fields[0] if fields else Message()
    feedback_type = _header(report, "Feedback-Type").lower().strip()
    if feedback_type not in _COMPLAINT_TYPES:
        return Reading(key, AUTO_REPLY, summary=f"feedback report of type {feedback_type or '?'}: ignored")
    who = _Who.of(msg, ctx, extra=[_header(report, "Original-Mail-From")])
    original = who.original
    recipient = (_address_field(_header(report, "Original-Rcpt-To"))
                 or (_first_address(_header(original, "To")) if original is not None else ""))
    sid, cid = who.resolve(recipient, ctx)
    event = Event(COMPLAINT, f"mailbox:{key}:complaint", "mailbox", recipient, sid, cid,
                  detail={"feedback_type": feedback_type,
                          "reporter": _header(report, "Reporting-MTA") or _header(report, "User-Agent")})
    return Reading(key, ABUSE, [event], f"complaint ({feedback_type}) about {recipient or 'an unknown address'}")


# -- 3. mailto unsubscribe -------------------------------------------------------------------

def _unsubscribe(msg: Message, key: str, ctx: Context) -> Reading | None:
    subject = _header(msg, "Subject")
    to_us = _addressed_to_unsubscribe(msg, ctx)
    if not to_us and not re.match(r"\s*unsubscribe\b", subject, re.IGNORECASE):
        return None
    if _header(msg, "Auto-Submitted").lower() not in ("", "no"):
        return None   # an auto-reply to the unsubscribe address is not a request
    sender = parseaddr(_header(msg, "From"))[1]
    sid = _token_subscriber(msg, ctx)
    how = "token"
    if sid is None and sender:
        sid, how = ctx.find_subscriber(sender), "sender address"
    if sid is None:
        return Reading(key, UNKNOWN, summary=f"unsubscribe request from {sender or '?'}: no subscriber found")
    event = Event(UNSUBSCRIBE, f"mailbox:{key}:unsubscribe", "mailbox", sender, sid, None,
                  detail={"identified_by": how})
    return Reading(key, UNSUBSCRIBE_REQUEST, [event], f"unsubscribe request ({how}) from {sender}")


def _addressed_to_unsubscribe(msg: Message, ctx: Context) -> bool:
    if not ctx.unsubscribe_address:
        return False
    local, _, domain = ctx.unsubscribe_address.lower().rpartition("@")
    for address in _envelope_addresses(msg):
        a_local, _, a_domain = address.lower().rpartition("@")
        if a_domain == domain and (a_local == local or a_local.startswith(local + "+")):
            return True
    return False


def _token_subscriber(msg: Message, ctx: Context) -> int | None:
    """A subscriber named by a valid unsubscribe token in the subject or in an address."""
    places = [_header(msg, "Subject"), *_envelope_addresses(msg)]
    for text in places:
        for candidate in _TOKEN.findall(text):
            sid = tokens.verify_token(ctx.secret_key, candidate, ctx.list_id, tokens.UNSUBSCRIBE)
            if sid is not None and sid.isdigit():
                return int(sid)
    return None


# -- 4. auto-replies ---------------------------------------------------------------------------

def _auto_reply(msg: Message, key: str, ctx: Context) -> Reading | None:
    auto = _header(msg, "Auto-Submitted").lower().split(";")[0].strip()
    marks = [auto not in ("", "no"),
             bool(_header(msg, "X-Autoreply") or _header(msg, "X-Autorespond")),
             _header(msg, "Precedence").lower().strip() == "auto_reply",
             _header(msg, "X-Auto-Response-Suppress") != "" and bool(_VACATION.match(_header(msg, "Subject"))),
             bool(_VACATION.match(_header(msg, "Subject")))]
    if not any(marks):
        return None
    # A bounce in a format of its own can carry Auto-Submitted too: let flufl.bounce look first.
    if _flufl_failures(msg) != (set(), set()):
        return None
    return Reading(key, AUTO_REPLY, summary=f"auto-reply ignored: {_header(msg, 'Subject')[:80]!r}")


# -- 5. other bounce formats ----------------------------------------------------------------

def _other_bounce(msg: Message, key: str, ctx: Context) -> Reading | None:
    """flufl.bounce's permanent failures are bounces (hard when the text's status code or,
    without one, the failure itself says so); its temporary ones are delay warnings."""
    temporary, permanent = _flufl_failures(msg)
    if not temporary and not permanent:
        return None
    who = _Who.of(msg, ctx)
    status = _status(_plain_text(msg))
    events = []
    for address in sorted(permanent):
        kind = _bounce_kind(status, "" if status else "550")
        sid, cid = who.resolve(address, ctx)
        events.append(Event(kind, f"mailbox:{key}:{address.lower()}:failed", "mailbox", address, sid, cid,
                            status, "", {"detector": "flufl.bounce"}))
    for address in sorted(temporary - permanent):
        sid, cid = who.resolve(address, ctx)
        events.append(Event(DELAY, f"mailbox:{key}:{address.lower()}:delayed", "mailbox", address, sid, cid,
                            status if status.startswith("4") else "", "", {"detector": "flufl.bounce"}))
    verdict = BOUNCE if permanent else DELAYED
    return Reading(key, verdict, events, "; ".join(f"{e.kind} {e.email}" for e in events) + " (non-standard)")


def _flufl_failures(msg: Message) -> tuple[set[str], set[str]]:
    from flufl.bounce import all_failures

    try:
        temporary, permanent = all_failures(msg)
    except Exception as exc:  # noqa: BLE001 - the detectors are heuristics over hostile input
        log.debug("flufl.bounce failed: %r", exc)
        return set(), set()
    decode = lambda found: {a.decode("utf-8", "replace") if isinstance(a, bytes) else a for a in found}  # noqa: E731
    return decode(temporary), decode(permanent)


# -- who a report is about ------------------------------------------------------------------

@dataclass
class _Who:
    """Everything in a report that can name its subscriber: the VERP return path (from the
    report's envelope headers or the original message's Return-Path), the unsubscribe token
    in the original's List-Unsubscribe, and the original message's headers."""

    return_path: verp.ReturnPath | None
    token_subscriber: int | None
    original: Message | None

    @classmethod
    def of(cls, msg: Message, ctx: Context, extra: list[str] | None = None) -> _Who:
        original = _original_headers(msg)
        places = [*(_header(msg, h) for h in ENVELOPE_HEADERS), *(extra or [])]
        if original is not None:
            places += [_header(original, "Return-Path"), _header(original, "Sender")]
        found = None
        for text in places:
            found = verp.parse(ctx.secret_key, text, ctx.bounce_domain) if text else None
            if found:
                break
        token_sid = None
        if original is not None:
            for candidate in _TOKEN.findall(_header(original, "List-Unsubscribe")):
                sid = tokens.verify_token(ctx.secret_key, candidate, ctx.list_id, tokens.UNSUBSCRIBE)
                if sid is not None and sid.isdigit():
                    token_sid = int(sid)
                    break
        return cls(found, token_sid, original)

    def resolve(self, address: str, ctx: Context) -> tuple[int | None, int | None]:
        """(subscriber id, campaign id) for a report about ``address``."""
        if self.return_path is not None:
            return self.return_path.subscriber, self.return_path.campaign
        if self.token_subscriber is not None:
            return self.token_subscriber, None
        if address:
            return ctx.find_subscriber(address), None
        return None, None


def _original_headers(msg: Message) -> Message | None:
    """The returned message's headers: from a message/rfc822 part, or from text/rfc822-headers
    (which is all many MTAs include)."""
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/global"):
            payload = part.get_payload()
            if isinstance(payload, list) and payload:
                return payload[0]
        if ctype in ("text/rfc822-headers", "text/global-headers"):
            body = part.get_payload(decode=True) or b""
            return HeaderParser(policy=policy.compat32).parsestr(body.decode("utf-8", "replace"))
    return None


# -- small helpers -------------------------------------------------------------------------

def _part(msg: Message, ctype: str) -> Message | None:
    for part in msg.walk():
        if part.get_content_type() == ctype:
            return part
    return None


def _blocks(part: Message) -> list[Message]:
    """The header blocks of a message/delivery-status or message/feedback-report part."""
    payload = part.get_payload()
    if isinstance(payload, list):
        blocks: list[Message] = []
        for item in payload:
            if isinstance(item, Message):
                blocks.append(item)
        if part.get_content_type() == "message/feedback-report" and len(blocks) == 1:
            return blocks
        if blocks:
            return blocks
    text = part.get_payload(decode=True) or (payload.encode() if isinstance(payload, str) else b"")
    chunks = re.split(r"\r?\n\s*\r?\n", text.decode("utf-8", "replace").strip())
    return [HeaderParser(policy=policy.compat32).parsestr(chunk + "\n") for chunk in chunks if chunk.strip()]


def _header(msg: Message | None, name: str) -> str:
    if msg is None:
        return ""
    value = msg.get(name)
    if value is None:
        return ""
    text = str(value)
    if "=?" in text:
        from email.header import decode_header, make_header
        try:
            text = str(make_header(decode_header(text)))
        except Exception:  # noqa: BLE001
            pass
    return " ".join(text.split())


def _address_field(value: str) -> str:
    """The address of ``rfc822; someone@example.org`` (RFC 3464 address-type; address)."""
    address = value.partition(";")[2] if ";" in value else value
    return address.strip().strip("<>").strip()


def _first_address(value: str) -> str:
    found = getaddresses([value])
    return found[0][1] if found else ""


def _envelope_addresses(msg: Message) -> list[str]:
    return [a for h in ENVELOPE_HEADERS for _, a in getaddresses([_header(msg, h)]) if a]


def _plain_text(msg: Message) -> str:
    out = []
    for part in msg.walk():
        if part.get_content_maintype() == "text":
            body = part.get_payload(decode=True) or b""
            out.append(body.decode(part.get_content_charset() or "utf-8", "replace"))
    return "\n".join(out)

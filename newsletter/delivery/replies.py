"""What an SMTP reply (or a delivery status notification's status code) means for the
recipient: the one table of verdicts, by RFC 3463 enhanced status code with the basic reply
code (RFC 5321) as the fallback. 4.x.x is never a hard bounce.

(A minimal version written by the feedback work, which reads DSN status codes through
``classify_status``; the sending work owns this module and extends it with the send-time rows.)
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

SESSION_STAGES = frozenset({"connect", "ehlo", "starttls", "auth", "mail"})
_ENHANCED = re.compile(r"^\s*\d{3}[ -]([245])\.(\d{1,3})\.(\d{1,3})\b")


class Verdict(StrEnum):
    DELIVERED = "delivered"
    SERVER_BUSY = "server busy"           # the server, not the recipient: back off, try later
    SESSION_REFUSED = "session refused"   # our settings or sender are refused: pause the campaign
    TEMPORARY = "temporary"               # this recipient, later
    HARD_BOUNCE = "hard bounce"           # this address does not work
    FAILED = "failed for this campaign"   # this message was refused; the address is not at fault


@dataclass(frozen=True)
class Reading:
    """A classified reply: the verdict and the row of the table that gave it (1-based)."""

    verdict: Verdict
    row: int


def enhanced_code(text: str) -> tuple[int, int, int] | None:
    """The RFC 3463 code at the start of a reply's text ("550 5.1.1 ..."), if any."""
    match = _ENHANCED.match(text)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def classify(code: int, text: str, stage: str) -> Reading:
    """The verdict on reply ``code`` with ``text`` at ``stage`` (connect ... rcpt, data)."""
    enhanced = enhanced_code(text) or enhanced_code(f"{code} {text}")
    if enhanced is not None and enhanced[0] != code // 100:
        enhanced = None   # RFC 3463 3.1: the classes must agree; trust the basic code then
    return _classify(code, enhanced, stage)


def classify_status(status: str) -> Reading:
    """The verdict on a DSN's ``Status:`` field ("5.1.1"), as if a server had answered it to
    RCPT (the per-recipient step)."""
    parts = status.strip().split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or parts[0] not in "245":
        raise ValueError(f"not an RFC 3463 status code: {status!r} (expected e.g. 5.1.1)")
    klass, subject, detail = (int(p) for p in parts)
    return _classify(klass * 100 + (50 if klass > 2 else 0), (klass, subject, detail), "rcpt")


def _classify(code: int, enhanced: tuple[int, int, int] | None, stage: str) -> Reading:
    basic = code // 100
    subject = enhanced[1:] if enhanced else None
    if basic == 2:
        return Reading(Verdict.DELIVERED, 1)
    if code == 421:
        return Reading(Verdict.SERVER_BUSY, 2)
    if stage in SESSION_STAGES:
        return Reading(Verdict.SERVER_BUSY, 3) if basic == 4 else Reading(Verdict.SESSION_REFUSED, 4)
    if code == 530:
        return Reading(Verdict.SESSION_REFUSED, 5)
    if subject in ((1, 7), (1, 8)):
        return Reading(Verdict.SESSION_REFUSED, 6)
    if code == 452 or enhanced == (4, 5, 3):
        return Reading(Verdict.SERVER_BUSY, 7)
    if subject == (2, 2) or (enhanced is None and code == 552):
        return Reading(Verdict.TEMPORARY, 8)
    if basic == 4:
        return Reading(Verdict.TEMPORARY, 9)
    if enhanced is not None:
        return Reading(Verdict.HARD_BOUNCE, 10) if enhanced[1] == 1 else Reading(Verdict.FAILED, 11)
    if stage == "rcpt" and code in (550, 551, 553):
        return Reading(Verdict.HARD_BOUNCE, 12)
    return Reading(Verdict.FAILED, 13)

"""What an SMTP reply (or a delivery status notification's status code) means for the
recipient, the subscriber and the campaign: the one table, used by the SMTP adapter at send
time and by anything that reads bounces later (a DSN's ``Status: 5.1.1`` goes through
``classify_status``).

The enhanced status code (RFC 3463, ``class.subject.detail``) decides; the basic reply code
(RFC 5321) is the fallback for servers that send none. The first row that matches wins:

==  ==========================================  ========================  ==========================================
#   reply                                       verdict                   what happens
==  ==========================================  ========================  ==========================================
1   2xx                                         delivered                 recorded sent
2   421 at any step                             server busy               back off, recipient stays pending
3   4xx at connect, EHLO, STARTTLS, AUTH, MAIL  server busy               back off, recipient stays pending
4   5xx at connect, EHLO, STARTTLS, AUTH, MAIL  session refused           campaign pauses, recipient stays pending
5   530 at any step (authentication required)   session refused           campaign pauses, recipient stays pending
6   x.1.7 or x.1.8 (the sender's address)       session refused           campaign pauses, recipient stays pending
7   x.2.2, or 552 without one (mailbox full)    temporary                 retried until delivery.retry_for_seconds
8   452, or 4.5.3 (too many recipients)         server busy               back off, recipient stays pending
9   other 4xx                                   temporary                 retried until delivery.retry_for_seconds
10  5.1.x (bad destination address)             hard bounce               failed, counts against the subscriber
11  5.2.x, 5.3.x, 5.4.x, 5.5.x, 5.6.x, 5.7.x    failed for this campaign  failed, subscriber unchanged
12  550, 551 or 553 at RCPT without one         hard bounce               failed, counts against the subscriber
13  any other 5xx                               failed for this campaign  failed, subscriber unchanged
==  ==========================================  ========================  ==========================================
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from newsletter.delivery.states import RecipientState

# The steps of an SMTP session that concern the whole session, not one recipient.
SESSION_STAGES = frozenset({"connect", "ehlo", "starttls", "auth", "mail"})
_ENHANCED = re.compile(r"^\s*\d{3}[ -]([245])\.(\d{1,3})\.(\d{1,3})\b")


class Verdict(StrEnum):
    DELIVERED = "delivered"
    SERVER_BUSY = "server busy"           # the server, not the recipient: back off, try later
    SESSION_REFUSED = "session refused"   # our settings or sender are refused: pause the campaign
    TEMPORARY = "temporary"               # this recipient, later
    HARD_BOUNCE = "hard bounce"           # this address does not work
    FAILED = "failed for this campaign"   # this message was refused; the address is not at fault

    @property
    def state(self) -> RecipientState:
        """The journal state a recipient gets from this verdict."""
        return _STATES[self]


_STATES = {
    Verdict.DELIVERED: RecipientState.SENT,
    Verdict.SERVER_BUSY: RecipientState.PENDING,
    Verdict.SESSION_REFUSED: RecipientState.PENDING,
    Verdict.TEMPORARY: RecipientState.FAILED_TEMPORARY,
    Verdict.HARD_BOUNCE: RecipientState.FAILED_PERMANENT,
    Verdict.FAILED: RecipientState.FAILED_PERMANENT,
}


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
    """The verdict on reply ``code`` with ``text`` (the whole reply, "550 5.1.1 ...") at
    ``stage`` (connect, ehlo, starttls, auth, mail, rcpt or data)."""
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
    if subject == (2, 2) or (enhanced is None and code == 552):
        return Reading(Verdict.TEMPORARY, 7)
    if code == 452 or enhanced == (4, 5, 3):
        return Reading(Verdict.SERVER_BUSY, 8)
    if basic == 4:
        return Reading(Verdict.TEMPORARY, 9)
    if enhanced is not None:
        return Reading(Verdict.HARD_BOUNCE, 10) if enhanced[1] == 1 else Reading(Verdict.FAILED, 11)
    if stage == "rcpt" and code in (550, 551, 553):
        return Reading(Verdict.HARD_BOUNCE, 12)
    return Reading(Verdict.FAILED, 13)

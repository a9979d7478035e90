"""VERP return paths: the envelope sender of each campaign message names its recipient.

With ``delivery.bounce_domain`` set, the message to subscriber 42 of campaign 7 is sent with
the envelope sender ``bounce+42-7-<mac>@<bounce domain>``. Every delivery status notification
goes back to that address, so a bounce identifies subscriber and campaign even when the
notification itself is malformed or names an address the list does not know (a forwarder).

The code is made to survive the trip: decimal ids and a lower-case hex MAC use only
characters that mean the same after an MTA folds the local part to lower or upper case
(base64 would not), and the whole local part stays within RFC 5321's 64 octets. The MAC (a
truncated HMAC-SHA256 keyed by the workspace secret) keeps anyone from forging bounces that
would clean other people's addresses.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

PREFIX = "bounce"
MAC_HEX = 16            # 64 bits: enough to make guessing pointless, short enough for the limit
MAX_LOCAL_PART = 64     # RFC 5321 4.5.3.1.1
_DOMAIN = b"newsletter-verp-v1"
_CODE = re.compile(rf"\b{PREFIX}\+(\d{{1,20}})-(\d{{1,20}})-([0-9a-f]{{{MAC_HEX}}})@([a-z0-9.-]+)", re.IGNORECASE)


@dataclass(frozen=True)
class ReturnPath:
    """What a VERP address names."""

    subscriber: int
    campaign: int


def return_path(secret_key: bytes, subscriber: int | str, campaign: int | str, domain: str) -> str:
    """The envelope sender for one subscriber and campaign (both numeric ids)."""
    sid, cid = int(subscriber), int(campaign)
    if sid < 0 or cid < 0:
        raise ValueError("subscriber and campaign ids must not be negative")
    local = f"{PREFIX}+{sid}-{cid}-{_mac(secret_key, sid, cid)}"
    if len(local) > MAX_LOCAL_PART:
        raise ValueError(f"the VERP local part {local!r} is longer than {MAX_LOCAL_PART} octets")
    return f"{local}@{domain.lower()}"


def parse(secret_key: bytes, text: str, domain: str | None = None) -> ReturnPath | None:
    """The subscriber and campaign named by the first genuine VERP address in ``text`` (a
    header value, a whole address, a line of a report), or None. Case does not matter; an
    address whose MAC is wrong, or (given ``domain``) that is for another domain, is ignored."""
    for match in _CODE.finditer(text or ""):
        sid, cid, mac, at = int(match[1]), int(match[2]), match[3].lower(), match[4].lower().rstrip(".")
        if domain is not None and at != domain.lower():
            continue
        if hmac.compare_digest(mac, _mac(secret_key, sid, cid)):
            return ReturnPath(sid, cid)
    return None


def _mac(secret_key: bytes, sid: int, cid: int) -> str:
    if not secret_key:
        raise ValueError("an empty secret key would make every return path forgeable")
    message = _DOMAIN + b"\0" + str(sid).encode() + b"\0" + str(cid).encode()
    return hmac.new(secret_key, message, hashlib.sha256).hexdigest()[:MAC_HEX]

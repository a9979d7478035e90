"""Signed, stateless tokens for unsubscribe, preference and confirmation links.

A token is ``<subject>.<signature>`` or ``<subject>.<claim>.<signature>``, each part base64url
without padding. The subject is a subscriber id (or, for ``confirm``, a pending sign-up's id);
the optional claim is the campaign an unsubscribe link was sent in, or the issue time of a
confirm token. The signature is an HMAC-SHA256, keyed by the workspace secret, over the
subject, the claim, the list id and the purpose, so a web endpoint can check a link with the
secret alone: no table of issued tokens, nothing to look up before it knows which subscriber
the link is for. Binding the purpose means a preferences link cannot be replayed as a one-click
unsubscribe; binding the list means a token from one newsletter is worthless for another that
happens to share the key; the claim cannot be changed without breaking the signature.

Keys rotate: the functions that check take a sequence of keys (current first, old ones after);
tokens are always made with the first, so links already in inboxes keep working.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from typing import Sequence

UNSUBSCRIBE = "unsubscribe"
PREFERENCES = "preferences"
CONFIRM = "confirm"
PURPOSES = (UNSUBSCRIBE, PREFERENCES, CONFIRM)
_DOMAIN = b"newsletter-token-v1"
Keys = bytes | Sequence[bytes]


@dataclass(frozen=True)
class Claim:
    """What a valid token says: whom it is for and its claim ("" when it has none)."""

    subject: str
    claim: str = ""

    @property
    def issued_at(self) -> int | None:
        """A confirm token's issue time (Unix seconds), else None."""
        return int(self.claim) if self.claim.isdigit() else None


def make_token(secret_key: Keys, subscriber_id: int | str, list_id: str,
               purpose: str = UNSUBSCRIBE, *, claim: str = "") -> str:
    """A URL-safe token naming ``subscriber_id``, valid for ``list_id`` and ``purpose`` only.
    ``claim`` (a campaign id, an issue time) is signed with it."""
    key = _current(secret_key)
    sid = str(subscriber_id)
    mac = _b64(_mac(key, sid, list_id, purpose, claim))
    if claim:
        return f"{_b64(sid.encode('utf-8'))}.{_b64(claim.encode('utf-8'))}.{mac}"
    return f"{_b64(sid.encode('utf-8'))}.{mac}"


def make_confirm_token(secret_key: Keys, signup_id: int | str, list_id: str, issued_at: int) -> str:
    """A token for a pending sign-up's confirmation link, carrying its issue time."""
    return make_token(secret_key, signup_id, list_id, CONFIRM, claim=str(int(issued_at)))


def verify_token(secret_key: Keys, token: str, list_id: str,
                 purpose: str = UNSUBSCRIBE) -> str | None:
    """The subscriber id (as text) if ``token`` was made with one of these keys, for this list
    and purpose, else None. Malformed tokens are simply invalid: this runs on untrusted input."""
    found = check_token(secret_key, token, list_id, purpose)
    return found.subject if found else None


def check_token(secret_key: Keys, token: str, list_id: str, purpose: str, *,
                now: float | None = None, max_age: float | None = None) -> Claim | None:
    """The token's subject and claim if it is genuine, else None. With ``max_age`` (seconds)
    the claim must be an issue time no older than that at ``now`` (and not in the future)."""
    parts = token.split(".")
    if len(parts) not in (2, 3) or not all(parts):
        return None
    try:
        sid = _unb64(parts[0]).decode("utf-8")
        claim = _unb64(parts[1]).decode("utf-8") if len(parts) == 3 else ""
        given = _unb64(parts[-1])
    except (ValueError, UnicodeDecodeError):
        return None
    ok = False
    for key in _all(secret_key):
        # compare_digest takes the same time wherever the first difference is; every key is
        # tried, so the time does not tell which key (if any) matched.
        ok |= hmac.compare_digest(given, _mac(key, sid, list_id, purpose, claim))
    if not ok:
        return None
    found = Claim(sid, claim)
    if max_age is not None:
        issued = found.issued_at
        if issued is None or now is None or not (issued - 60 <= now <= issued + max_age):
            return None
    return found


def _current(keys: Keys) -> bytes:
    return _all(keys)[0]


def _all(keys: Keys) -> list[bytes]:
    found = [keys] if isinstance(keys, (bytes, bytearray)) else list(keys)
    if not found:
        raise ValueError("no secret key: every token would be forgeable")
    return found


def _mac(secret_key: bytes, sid: str, list_id: str, purpose: str, claim: str = "") -> bytes:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}; expected one of {PURPOSES}")
    if not secret_key:
        raise ValueError("an empty secret key would make every token forgeable")
    # Length-prefixed fields: ("1", "23") and ("12", "3") must not sign the same bytes. A
    # token without a claim signs exactly what tokens signed before claims existed.
    fields = [_DOMAIN, purpose.encode(), list_id.encode("utf-8"), sid.encode("utf-8")]
    if claim:
        fields.append(claim.encode("utf-8"))
    message = b"".join(len(f).to_bytes(4, "big") + f for f in fields)
    return hmac.new(secret_key, message, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        data = base64.urlsafe_b64decode(text.encode("ascii") + b"=" * (-len(text) % 4))
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError(str(exc)) from None
    # The decoder skips stray characters; accept only the one canonical spelling.
    if _b64(data) != text:
        raise ValueError("not canonical base64url")
    return data

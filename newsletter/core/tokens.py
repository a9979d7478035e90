"""Signed, stateless tokens for unsubscribe and preference links.

A token is ``<subscriber id>.<signature>``, both base64url without padding. The signature is an
HMAC-SHA256, keyed by the workspace secret, over the subscriber id, the list id and the purpose,
so a web endpoint can check a link with the secret alone: no table of issued tokens, nothing to
look up before it knows which subscriber the link is for. Binding the purpose means a
preferences link cannot be replayed as a one-click unsubscribe; binding the list means a token
from one newsletter is worthless for another that happens to share the key.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

UNSUBSCRIBE = "unsubscribe"
PREFERENCES = "preferences"
PURPOSES = (UNSUBSCRIBE, PREFERENCES)
_DOMAIN = b"newsletter-token-v1"


def make_token(secret_key: bytes, subscriber_id: int | str, list_id: str,
               purpose: str = UNSUBSCRIBE) -> str:
    """A URL-safe token naming ``subscriber_id``, valid for ``list_id`` and ``purpose`` only."""
    sid = str(subscriber_id)
    return f"{_b64(sid.encode('utf-8'))}.{_b64(_mac(secret_key, sid, list_id, purpose))}"


def verify_token(secret_key: bytes, token: str, list_id: str,
                 purpose: str = UNSUBSCRIBE) -> str | None:
    """The subscriber id (as text) if ``token`` was made with this key, list and purpose,
    else None. Malformed tokens are simply invalid: this runs on untrusted input."""
    sid_part, dot, mac_part = token.partition(".")
    if not dot or not sid_part or not mac_part:
        return None
    try:
        sid = _unb64(sid_part).decode("utf-8")
        given = _unb64(mac_part)
    except (ValueError, UnicodeDecodeError):
        return None
    expected = _mac(secret_key, sid, list_id, purpose)
    # compare_digest takes the same time wherever the first difference is.
    return sid if hmac.compare_digest(given, expected) else None


def _mac(secret_key: bytes, sid: str, list_id: str, purpose: str) -> bytes:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}; expected one of {PURPOSES}")
    if not secret_key:
        raise ValueError("an empty secret key would make every token forgeable")
    # Length-prefixed fields: ("1", "23") and ("12", "3") must not sign the same bytes.
    fields = (_DOMAIN, purpose.encode(), list_id.encode("utf-8"), sid.encode("utf-8"))
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

"""What keeps the readers' pages safe on the open internet: security headers and a strict
Content-Security-Policy on every answer, a request size limit, the client's address (from
X-Forwarded-For only when the request comes from a trusted proxy), CSRF tokens for forms, a
per-address rate limit, and IP addresses cut down before they are stored."""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import threading
import time
from collections import deque
from typing import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    # Token pages have the token in their URL: it must never travel on in a Referer header.
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    (b"cache-control", b"no-store"),
]
CSRF_COOKIE = "nl_csrf"
CSRF_FIELD = "csrf"


class SecurityMiddleware:
    """Pure ASGI: adds the headers to every response and refuses bodies above ``max_body``
    (by Content-Length at once, and by counting what actually arrives)."""

    def __init__(self, app: ASGIApp, max_body: int):
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], *(h for h in HEADERS if h[0] not in names)]
            await send(message)

        length = _content_length(scope)
        if length is not None and length > self.max_body:
            await _too_large(send_with_headers)
            return
        # Bodies here are small forms: read all of it first (refusing it as soon as it grows
        # past the limit, whatever Content-Length said), then hand it on in one piece.
        body, more = [], True
        size = 0
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                await _too_large(send_with_headers)
                return
            body.append(chunk)
            more = message.get("more_body", False)
        whole = b"".join(body)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": whole, "more_body": False}
            return await receive()

        await self.app(scope, replay, send_with_headers)


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", []):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _too_large(send: Send) -> None:
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": b"Request too large\n"})


# -- the client's address -------------------------------------------------------------------

class ClientAddress:
    """The address a request came from. X-Forwarded-For is read only when the direct peer is
    a trusted proxy, and then from the right: the first address that is not itself a trusted
    proxy is the client (anything left of it could be written by the client)."""

    def __init__(self, trusted: Iterable[str]):
        self.trusted = [ipaddress.ip_network(t, strict=False) for t in trusted]

    def is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self.trusted)

    def of(self, peer: str | None, forwarded_for: str | None) -> str:
        client = peer or ""
        if not self.trusted or not self.is_trusted(client) or not forwarded_for:
            return client
        for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
            if not _valid_ip(hop):
                return client  # a malformed chain: believe only the proxy itself
            client = hop
            if not self.is_trusted(hop):
                break
        return client


def _valid_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def stored_ip(address: str, mode: str) -> str | None:
    """The address as the consent record keeps it: not at all, truncated (IPv4 /24, IPv6
    /48, enough to show the region and provider, not the household), or in full."""
    if mode == "none" or not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if mode == "full":
        return str(ip)
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)


# -- CSRF -----------------------------------------------------------------------------------

class Csrf:
    """Double-submit: a random cookie (SameSite=Strict, HttpOnly) and, in each form, an HMAC
    of it under the server's key. A page on another site can neither read the cookie nor
    make the form value, and the browser does not send a Strict cookie with its POST."""

    def __init__(self, key: bytes):
        self.key = hashlib.sha256(b"newsletter-csrf\0" + key).digest()

    @staticmethod
    def new_cookie() -> str:
        return secrets.token_urlsafe(24)

    def field_for(self, cookie: str) -> str:
        return hmac.new(self.key, cookie.encode(), hashlib.sha256).hexdigest()

    def valid(self, cookie: str | None, field: str | None) -> bool:
        if not cookie or not field:
            return False
        return hmac.compare_digest(self.field_for(cookie), field)


# -- rate limit -----------------------------------------------------------------------------

class RateLimit:
    """At most ``limit`` events per ``window`` seconds per key (an address), in this process.
    Old keys are forgotten as they age, so memory stays bounded by recent traffic."""

    def __init__(self, limit: int, window: float, clock=time.monotonic, max_keys: int = 100_000):
        self.limit, self.window, self.clock, self.max_keys = limit, window, clock, max_keys
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = self.clock()
        with self._lock:
            if len(self._seen) > self.max_keys:
                self._forget(now)
            times = self._seen.setdefault(key, deque())
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) >= self.limit:
                return False
            times.append(now)
            return True

    def _forget(self, now: float) -> None:
        for key in [k for k, t in self._seen.items() if not t or t[-1] <= now - self.window]:
            del self._seen[key]

"""Delivery over SMTP with smtplib: STARTTLS, implicit TLS or none; AUTH; timeouts; a pool of
connections reused across messages and shared by the runner's worker threads.

Configured by one URL (``delivery.smtp_url`` or ``NEWSLETTER_SMTP_URL``)::

    smtp://host:25                        no TLS (a relay on this machine or the LAN)
    smtp+starttls://user:password@host:587
    smtps://user:password@host:465        TLS from the first byte

The password may instead come from ``NEWSLETTER_SMTP_PASSWORD``. A connection that the server
closed while it sat idle is replaced and the message tried once more on the new one; other
breaks are reported as ``ConnectionLost`` for the runner to retry. The DATA step is done here
rather than by ``smtplib.sendmail`` so that a break can be told apart: before the final "."
was sent (nothing can have been accepted) or after it (the server may have accepted it).

Each step waits as long as RFC 5321 4.5.3.2 allows (``Timeouts``; up to 10 minutes for the
reply to the final "."), and a whole transaction has a deadline of its own: a server that
trickles a byte at a time never hits a per-read timeout, so a watchdog closes its socket.
Certificates are always checked; ``ca_file`` adds a private relay's CA to the system's.
"""
from __future__ import annotations

import base64
import heapq
import itertools
import logging
import re
import smtplib
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence
from urllib.parse import unquote, urlsplit

from newsletter.core.errors import ConfigError
from newsletter.delivery.base import Adapter, AdapterError, ConnectionLost, SendResult
from newsletter.delivery.replies import Verdict, classify

if TYPE_CHECKING:
    from newsletter.core.config import Workspace

log = logging.getLogger(__name__)

SCHEMES = {"smtp": ("none", 25), "smtp+starttls": ("starttls", 587), "smtps": ("tls", 465)}


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait, per RFC 5321 4.5.3.2 (its minimums are the defaults); ``connect`` is
    the TCP connection and ``session`` EHLO, STARTTLS and AUTH; ``transaction`` bounds MAIL
    to the final reply as a whole."""

    connect: float = 30.0
    greeting: float = 300.0
    session: float = 300.0
    mail: float = 300.0
    rcpt: float = 300.0
    data: float = 120.0
    block: float = 180.0
    final: float = 600.0
    transaction: float = 900.0


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str                     # "none", "starttls" or "tls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeouts: Timeouts = Timeouts()

    @property
    def timeout(self) -> float:
        return self.timeouts.connect

    def describe(self) -> str:
        scheme = next(k for k, (security, _) in SCHEMES.items() if security == self.security)
        user = f"{self.username}@" if self.username else ""
        return f"{scheme}://{user}{self.host}:{self.port}"


def parse_smtp_url(url: str, *, password: str | None = None, timeout: float | None = None,
                   timeouts: Timeouts | None = None) -> SmtpConfig:
    """The settings in an SMTP URL; ``password`` is used when the URL has none. ``timeout``
    (the connect timeout) overrides ``timeouts.connect``; a short one also bounds the other
    steps, as it did when it was the only timeout."""
    parts = urlsplit(url)
    shown = _redacted(url)
    scheme = parts.scheme.lower() if "://" in url else ""
    if scheme not in SCHEMES:
        raise ConfigError(f"SMTP URL {shown}: expected one of {', '.join(s + '://' for s in SCHEMES)}; "
                          f"got {scheme + '://' if scheme else 'no scheme'}")
    if not parts.hostname:
        raise ConfigError(f"SMTP URL {shown}: no host name (expected e.g. smtp+starttls://user@mail.example.org:587)")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigError(f"SMTP URL {shown}: expected only scheme, user, password, host and port")
    try:
        port = parts.port or SCHEMES[scheme][1]
    except ValueError:
        raise ConfigError(f"SMTP URL {shown}: the port is not a number from 1 to 65535") from None
    username = unquote(parts.username) if parts.username else None
    secret = unquote(parts.password) if parts.password else (password if username else None)
    if username and not secret:
        raise ConfigError(f"SMTP URL {shown} names the user {username!r} but no password is set; "
                          "set NEWSLETTER_SMTP_PASSWORD (or NEWSLETTER_SMTP_PASSWORD_FILE)")
    config = SmtpConfig(parts.hostname, port, SCHEMES[scheme][0], username, secret,
                        _timeouts(timeouts, timeout))
    if username and config.security == "none" and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
        log.warning("%s sends the SMTP password unencrypted; use smtp+starttls:// or smtps://", shown)
    return config


def _timeouts(timeouts: Timeouts | None, timeout: float | None) -> Timeouts:
    if timeouts is not None:
        return timeouts if timeout is None else Timeouts(**{**timeouts.__dict__, "connect": timeout})
    if timeout is None:
        return Timeouts()
    steps = {name: min(timeout, t) for name, t in Timeouts().__dict__.items()}
    return Timeouts(**{**steps, "transaction": min(Timeouts.transaction, 4 * timeout)})


def tls_context(ca_file: Path | str | None = None) -> ssl.SSLContext:
    """Certificate and host name checks on; the system's CAs, plus ``ca_file`` if given."""
    context = ssl.create_default_context()
    if ca_file:
        try:
            context.load_verify_locations(cafile=str(ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"delivery.smtp_ca_file {ca_file}: cannot load it as PEM certificates "
                              f"({getattr(exc, 'strerror', None) or exc})") from None
    return context


def _redacted(url: str) -> str:
    return re.sub(r"(//[^:/@]*:)[^@/]*@", r"\1***@", url)


def _result(recipient: str, code: int, text: bytes | str, stage: str) -> SendResult:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    reply = f"{code} {' '.join(text.split())}"
    return SendResult(recipient, classify(code, reply, stage).verdict, reply, code, stage)


def _login(smtp: smtplib.SMTP, username: str, password: str) -> None:
    """smtplib encodes credentials as ASCII; a password with "ä" in it goes through AUTH PLAIN,
    which is defined over UTF-8 (RFC 4616)."""
    if username.isascii() and password.isascii():
        smtp.login(username, password)
        return
    mechanisms = smtp.esmtp_features.get("auth", "").upper().split()
    if "PLAIN" not in mechanisms:
        raise AdapterError("the SMTP user name or password has non-ASCII characters, which need "
                           "AUTH PLAIN; the server offers only " + (", ".join(mechanisms) or "nothing"))
    response = base64.b64encode(f"\0{username}\0{password}".encode("utf-8")).decode("ascii")
    code, reply = smtp.docmd("AUTH", f"PLAIN {response}")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)


class _Greeting:
    """Waits ``greeting`` seconds for the server's first reply, not the connect timeout."""

    greeting_timeout: float = 300.0

    def _get_socket(self, host, port, timeout):  # type: ignore[no-untyped-def]
        sock = super()._get_socket(host, port, timeout)  # type: ignore[misc]
        sock.settimeout(self.greeting_timeout)
        return sock


class _SMTP(_Greeting, smtplib.SMTP):
    pass


class _SMTP_SSL(_Greeting, smtplib.SMTP_SSL):
    pass


class Watchdog:
    """One thread per adapter that cuts off transactions past their deadline by shutting
    their socket down (the blocked read then fails at once). ``arm`` and ``disarm`` are cheap:
    the thread only wakes for the earliest deadline."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int]] = []
        self._armed: dict[int, Callable[[], None]] = {}
        self._ids = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float, expire: Callable[[], None]) -> int:
        token = next(self._ids)
        deadline = time.monotonic() + seconds
        with self._cond:
            self._armed[token] = expire
            heapq.heappush(self._heap, (deadline, token))
            if self._thread is None:
                self._thread = threading.Thread(target=self._watch, name="smtp-watchdog", daemon=True)
                self._thread.start()
            elif self._heap[0][1] == token:
                self._cond.notify()
        return token

    def disarm(self, token: int) -> None:
        with self._cond:
            self._armed.pop(token, None)

    def _watch(self) -> None:
        while True:
            with self._cond:
                while self._heap and self._heap[0][1] not in self._armed:
                    heapq.heappop(self._heap)
                wait = self._heap[0][0] - time.monotonic() if self._heap else None
                if wait is None or wait > 0:
                    self._cond.wait(wait)
                    continue
                _, token = heapq.heappop(self._heap)
                expire = self._armed.pop(token)
            try:
                expire()
            except Exception:  # noqa: BLE001 - a watchdog must keep watching
                log.exception("cutting off an SMTP transaction failed")


_WATCHDOG = Watchdog()


class _Connection:
    """One SMTP session. Not thread-safe: the pool hands it to one thread at a time."""

    def __init__(self, config: SmtpConfig, context: ssl.SSLContext, watchdog: Watchdog = _WATCHDOG):
        self.config = config
        self._context = context
        self._watchdog = watchdog
        self.smtp: smtplib.SMTP | None = None
        self._transmitted = False
        self._expired = False

    @property
    def usable(self) -> bool:
        return self.smtp is not None

    def connect(self) -> None:
        cfg = self.config
        try:
            self._connect()
        except (AdapterError, ConnectionLost):
            self.close()
            raise
        except smtplib.SMTPAuthenticationError as exc:
            self.close()
            raise AdapterError(f"{cfg.describe()} refused the login: "
                               f"{_result('', exc.smtp_code, exc.smtp_error, 'auth').reply}") from None
        except ssl.SSLCertVerificationError as exc:
            self.close()
            raise AdapterError(f"{cfg.describe()}: the server's TLS certificate is not trusted "
                               f"({exc.verify_message}); for a private relay, set delivery.smtp_ca_file "
                               "(or NEWSLETTER_DELIVERY__SMTP_CA_FILE) to its CA certificate") from None
        except socket.gaierror as exc:
            self.close()
            if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
                raise AdapterError(f"cannot connect to {cfg.describe()}: no such host ({exc.strerror})") from None
            raise ConnectionLost(f"cannot connect to {cfg.describe()}: {exc}", uncertain=False) from None
        except smtplib.SMTPResponseException as exc:
            self.close()
            reply = _result("", exc.smtp_code, exc.smtp_error, "connect").reply
            if 400 <= exc.smtp_code < 500:
                raise ConnectionLost(f"{cfg.describe()} is not accepting mail now: {reply}", uncertain=False) from None
            raise AdapterError(f"{cfg.describe()} refused the session: {reply}") from None
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise ConnectionLost(f"cannot connect to {cfg.describe()}: {exc}", uncertain=False) from None

    def _connect(self) -> None:
        cfg = self.config
        smtp: smtplib.SMTP
        if cfg.security == "tls":
            smtp = _SMTP_SSL(timeout=cfg.timeouts.connect, context=self._context)
        else:
            smtp = _SMTP(timeout=cfg.timeouts.connect)
        smtp.greeting_timeout = cfg.timeouts.greeting   # type: ignore[attr-defined]
        smtp._host = cfg.host   # what smtplib checks the certificate against (it is set by SMTP(host))
        self.smtp = smtp
        code, text = smtp.connect(cfg.host, cfg.port)
        if code != 220:
            raise smtplib.SMTPConnectError(code, text)
        self._timeout(cfg.timeouts.session)
        self.smtp.ehlo()
        if cfg.security == "starttls":
            if not self.smtp.has_extn("starttls"):
                raise AdapterError(f"{cfg.describe()} does not offer STARTTLS; "
                                   "use smtps:// for implicit TLS, or smtp:// for none")
            self.smtp.starttls(context=self._context)
            self.smtp.ehlo()
        if cfg.username:
            if not self.smtp.has_extn("auth"):
                raise AdapterError(f"{cfg.describe()} does not offer AUTH, but a user name is set")
            _login(self.smtp, cfg.username, cfg.password or "")

    def _timeout(self, seconds: float) -> None:
        """The timeout for the next step's reads and writes."""
        assert self.smtp is not None and self.smtp.sock is not None
        self.smtp.sock.settimeout(seconds)

    def _cut_off(self) -> None:
        """The watchdog's call: the transaction took too long; its reads fail now."""
        self._expired = True
        smtp = self.smtp
        if smtp is not None and smtp.sock is not None:
            try:
                smtp.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def send(self, message: bytes, envelope_from: str, recipients: Sequence[str]) -> list[SendResult]:
        assert self.smtp is not None
        self._transmitted = self._expired = False
        token = self._watchdog.arm(self.config.timeouts.transaction, self._cut_off)
        try:
            results = self._transaction(message, envelope_from, recipients)
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.close()
            when = "after the message was sent, before the answer" if self._transmitted else "before the message was complete"
            why = (f"the transaction took longer than {self.config.timeouts.transaction:g} s "
                   "(delivery.timeouts.transaction) and was cut off" if self._expired else str(exc) or type(exc).__name__)
            raise ConnectionLost(f"connection to {self.config.describe()} lost {when}: {why}",
                                 uncertain=self._transmitted) from None
        finally:
            self._watchdog.disarm(token)
        if any(r.code == 421 for r in results):
            self.close()   # 421: the server is closing this connection
        return results

    def _transaction(self, message: bytes, envelope_from: str, recipients: Sequence[str]) -> list[SendResult]:
        smtp = self.smtp
        assert smtp is not None
        options = self._mail_options(message, envelope_from, recipients)
        if options is None:
            return [SendResult(r, Verdict.FAILED, "the server does not offer SMTPUTF8, which "
                               "this message or address needs", None, "mail") for r in recipients]
        if not options and smtp.has_extn("pipelining"):
            return self._pipelined(message, envelope_from, recipients)
        self._timeout(self.config.timeouts.mail)
        code, text = smtp.mail(envelope_from, options)
        if code != 250:
            self._reset(code)
            return [_result(r, code, text, "mail") for r in recipients]
        results: dict[str, SendResult] = {}
        accepted = []
        self._timeout(self.config.timeouts.rcpt)
        for rcpt in recipients:
            code, text = smtp.rcpt(rcpt)
            if code in (250, 251):
                accepted.append(rcpt)
            else:
                results[rcpt] = _result(rcpt, code, text, "rcpt")
        if not accepted:
            self._reset(code)
            return [results[r] for r in recipients]
        code, text = self._data(message)
        for rcpt in accepted:
            results[rcpt] = _result(rcpt, code, text, "data")
        return [results[r] for r in recipients]

    def _pipelined(self, message: bytes, envelope_from: str, recipients: Sequence[str]) -> list[SendResult]:
        """RFC 2920: MAIL, every RCPT and DATA in one write, then their replies in order; one
        round trip instead of two plus one per recipient, which is what bounds a sender on a
        fast link. The outcome per recipient is the same as without pipelining."""
        smtp = self.smtp
        assert smtp is not None
        commands = [f"MAIL FROM:{_angle(envelope_from)}"]
        commands += [f"RCPT TO:{_angle(r)}" for r in recipients]
        timeouts = self.config.timeouts
        self._timeout(timeouts.mail)
        smtp.send("".join(f"{c}\r\n" for c in commands) + "DATA\r\n")
        mail_code, mail_text = smtp.getreply()
        self._timeout(timeouts.rcpt)
        replies = [smtp.getreply() for _ in recipients]
        self._timeout(timeouts.data)
        data_code, data_text = smtp.getreply()
        accepted = [r for r, (code, _) in zip(recipients, replies) if code in (250, 251)]
        if data_code == 354 and not (mail_code == 250 and accepted):
            smtp.send(".\r\n")          # a server that opened DATA anyway gets an empty message ended
            smtp.getreply()
            data_code = 554
        if mail_code != 250:
            self._reset(mail_code)
            return [_result(r, mail_code, mail_text, "mail") for r in recipients]
        results = {r: _result(r, code, text, "rcpt") for r, (code, text) in zip(recipients, replies)
                   if code not in (250, 251)}
        if not accepted:
            self._reset(replies[-1][0] if replies else data_code)
            return [results[r] for r in recipients]
        if data_code != 354:
            self._reset(data_code)
            return [results.get(r) or _result(r, data_code, data_text, "data") for r in recipients]
        code, text = self._payload(message)
        for rcpt in accepted:
            results[rcpt] = _result(rcpt, code, text, "data")
        return [results[r] for r in recipients]

    def _mail_options(self, message: bytes, envelope_from: str, recipients: Sequence[str]) -> list[str] | None:
        """[] for plain ASCII; SMTPUTF8 (RFC 6531) when anything is not, if the server offers it."""
        assert self.smtp is not None
        if message.isascii() and envelope_from.isascii() and all(r.isascii() for r in recipients):
            return []
        if not self.smtp.has_extn("smtputf8"):
            return None
        return ["SMTPUTF8", "BODY=8BITMIME"] if self.smtp.has_extn("8bitmime") else ["SMTPUTF8"]

    def _data(self, message: bytes) -> tuple[int, bytes]:
        assert self.smtp is not None
        self._timeout(self.config.timeouts.data)
        self.smtp.putcmd("data")
        code, text = self.smtp.getreply()
        if code != 354:
            return code, text
        return self._payload(message)

    def _payload(self, message: bytes) -> tuple[int, bytes]:
        """After a 354: the dot-stuffed message and the final reply."""
        assert self.smtp is not None
        payload = dot_stuff(message)   # RFC 5321 4.5.2 dot-stuffing
        if not payload.endswith(b"\r\n"):
            payload += b"\r\n"
        self._timeout(self.config.timeouts.block)
        self.smtp.send(payload + b".\r\n")
        self._transmitted = True
        self._timeout(self.config.timeouts.final)
        return self.smtp.getreply()

    def _reset(self, code: int) -> None:
        if code != 421 and self.smtp is not None:
            self._timeout(self.config.timeouts.mail)
            self.smtp.rset()

    def close(self) -> None:
        smtp, self.smtp = self.smtp, None
        if smtp is None:
            return
        try:
            if smtp.sock is not None:
                smtp.sock.settimeout(min(5.0, self.config.timeouts.session))  # a polite QUIT, briefly
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            pass
        finally:
            smtp.close()


class SmtpAdapter(Adapter):
    name = "smtp"

    leaves_machine = True

    def __init__(self, config: SmtpConfig, *, connections: int = 1, ssl_context: ssl.SSLContext | None = None):
        self.config = config
        self.max_parallel = connections
        self._context = ssl_context or tls_context()
        self._idle: list[_Connection] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(connections)
        self.connections_opened = 0

    def describe(self) -> str:
        return f"{self.config.describe()} ({self.max_parallel} connection{'s' if self.max_parallel > 1 else ''})"

    def open(self) -> None:
        """Connect (and log in) once now, so that a wrong password, certificate or host name
        stops the campaign before anything is recorded as attempted. A server that is only
        absent for now raises ConnectionLost: the runner waits for it."""
        with self._lock:
            if self._idle:
                return
        self._checkin(self._connect())

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def send(self, message: bytes, envelope_from: str, recipients: Sequence[str]) -> list[SendResult]:
        with self._slots:
            conn = self._checkout()
            reused = conn is not None
            conn = conn or self._connect()
            try:
                try:
                    results = conn.send(message, envelope_from, recipients)
                except ConnectionLost as exc:
                    if exc.uncertain or not reused:
                        raise
                    # Servers close connections that sat idle; that is no failure.
                    log.info("%s; reconnecting", exc)
                    conn = self._connect()
                    results = conn.send(message, envelope_from, recipients)
            except BaseException:
                conn.close()
                raise
            self._checkin(conn)
            return results

    def _connect(self) -> _Connection:
        conn = _Connection(self.config, self._context)
        conn.connect()
        with self._lock:
            self.connections_opened += 1
        return conn

    def _checkout(self) -> _Connection | None:
        with self._lock:
            return self._idle.pop() if self._idle else None

    def _checkin(self, conn: _Connection) -> None:
        if conn.usable:
            with self._lock:
                self._idle.append(conn)


def from_workspace(ws: Workspace, **options: Any) -> SmtpAdapter:
    """The server in NEWSLETTER_SMTP_URL or delivery.smtp_url; ``options`` override
    (url, connections, timeout, ssl_context)."""
    url = options.get("url") or ws.secrets.smtp_url
    if not url:
        raise ConfigError("the smtp adapter needs a server: set delivery.smtp_url in newsletter.yaml "
                          "(e.g. smtp+starttls://user@mail.example.org:587) or NEWSLETTER_SMTP_URL")
    delivery = ws.settings.delivery
    timeouts = Timeouts(connect=delivery.timeout_seconds, **delivery.timeouts.model_dump())
    config = parse_smtp_url(url, password=ws.secrets.smtp_password, timeout=options.get("timeout"),
                            timeouts=timeouts)
    ca_file = delivery.smtp_ca_file
    if ca_file is not None and not ca_file.is_absolute():
        ca_file = ws.root / ca_file
    return SmtpAdapter(config, connections=options.get("connections") or delivery.connections,
                       ssl_context=options.get("ssl_context") or tls_context(ca_file))


def dot_stuff(message: bytes) -> bytes:
    """RFC 5321 4.5.2: a line starting with '.' gets another. A composed message has no such
    line (compose.qp.MessageBytes), so it is passed as it is. Otherwise bytes.replace: a multi-line
    regex over a 50 KB message cost a fifth of the sender's CPU."""
    if getattr(message, "needs_dot_stuffing", True) is False:
        return message
    payload = message.replace(b"\n.", b"\n..")
    return b"." + payload if payload.startswith(b".") else payload


def _angle(address: str) -> str:
    """'<address>' for the envelope. The addresses here were checked before (a bare
    addr-spec), so smtplib.quoteaddr's pure-Python parsing, a tenth of the sender's CPU, is
    only needed for anything unusual."""
    if address.isascii() and address.isprintable() and not any(c in address for c in " <>\"()"):
        return f"<{address}>"
    return smtplib.quoteaddr(address)

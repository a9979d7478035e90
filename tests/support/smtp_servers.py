"""SMTP test fixtures (a pytest plugin loaded by tests/conftest.py): a real aiosmtpd server on 127.0.0.1 that records what it accepts
and can be told to refuse or to drop connections, a self-signed TLS certificate made at test
time, and a small rendered variant with composers for it."""
from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Iterator

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.delivery import PASSWORD, USER


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    peer: tuple
    tls: bool
    authenticated: bool

    @property
    def message(self):
        return BytesParser(policy=policy.default).parsebytes(self.data)


@dataclass
class Recorder:
    """An aiosmtpd handler that keeps every message it accepts. Tests set the knobs:
    ``temporary[address] = n`` answers 451 to the first n RCPTs for it; ``permanent`` gets
    550 5.1.1; ``drop_every = n`` closes the connection at every n-th MAIL FROM (nothing was
    sent yet); ``drop_after_data`` keeps the message but closes without answering (the
    sender cannot know it arrived); ``always_temporary`` answers 451 to everything.
    ``refuse_mail`` / ``refuse_rcpt`` = (reply, until) answer every MAIL / RCPT with that reply
    until time.monotonic() passes ``until``; ``stall_after_data`` keeps the message and sleeps
    that long before answering; ``trickle_after_data`` answers with an endless multi-line
    reply, one line every 0.2 s."""

    messages: list[Received] = field(default_factory=list)
    temporary: dict[str, int] = field(default_factory=dict)
    permanent: set[str] = field(default_factory=set)
    drop_every: int | None = None
    drop_after_data: set[str] = field(default_factory=set)
    always_temporary: bool = False
    pipelining: bool = False   # advertise PIPELINING (RFC 2920) in the EHLO reply
    refuse_mail: tuple[str, float] | None = None
    refuse_rcpt: tuple[str, float] | None = None
    stall_after_data: float = 0.0
    trickle_after_data: bool = False
    transactions: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.refuse_mail and time.monotonic() < self.refuse_mail[1]:
            return self.refuse_mail[0]
        with self.lock:
            self.transactions += 1
            drop = self.drop_every and self.transactions % self.drop_every == 0
        if drop:
            server.transport.close()
            return "421 4.4.2 closing connection"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_rcpt and time.monotonic() < self.refuse_rcpt[1]:
            return self.refuse_rcpt[0]
        with self.lock:
            if self.always_temporary:
                return "451 4.3.0 try again later"
            if address in self.permanent:
                return f"550 5.1.1 <{address}>: user unknown"
            if self.temporary.get(address, 0) > 0:
                self.temporary[address] -= 1
                return "451 4.7.1 greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        tls = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
        received = Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content,
                            session.peer, tls, bool(session.authenticated))
        with self.lock:
            self.messages.append(received)
            drop = bool(self.drop_after_data.intersection(envelope.rcpt_tos))
            self.drop_after_data.difference_update(envelope.rcpt_tos)
        if drop:
            server.transport.close()
        if self.stall_after_data:
            await asyncio.sleep(self.stall_after_data)
        while self.trickle_after_data and not server.transport.is_closing():
            server.transport.write(b"250-still thinking\r\n")
            await asyncio.sleep(0.2)
        return "250 2.0.0 OK queued"

    def count(self, address: str) -> int:
        with self.lock:
            return sum(address in m.rcpt_tos for m in self.messages)

    def per_address(self) -> dict[str, int]:
        out: dict[str, int] = {}
        with self.lock:
            for m in self.messages:
                for a in m.rcpt_tos:
                    out[a] = out.get(a, 0) + 1
        return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode()
          and auth_data.password == PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


@dataclass
class SmtpServer:
    controller: Controller
    handler: Recorder
    port: int


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A plain SMTP server (no TLS, no AUTH), with SMTPUTF8 off."""
    yield from _serve()


@pytest.fixture(params=["plain", "pipelining"])
def any_server(request) -> Iterator[SmtpServer]:
    """A plain SMTP server, once without and once with PIPELINING offered."""
    for server in _serve():
        server.handler.pipelining = request.param == "pipelining"
        yield server


def serve_later(port: int, delay: float) -> tuple[threading.Thread, list[SmtpServer]]:
    """Start a plain server on ``port`` after ``delay`` seconds (a server that is down, then
    back); the list gets the server. Stop it with ``server.controller.stop()``."""
    started: list[SmtpServer] = []

    def start() -> None:
        time.sleep(delay)
        handler = Recorder()
        controller = Controller(handler, hostname="127.0.0.1", port=port, enable_SMTPUTF8=False)
        controller.start()
        started.append(SmtpServer(controller, handler, port))

    thread = threading.Thread(target=start, daemon=True)
    thread.start()
    return thread, started


@pytest.fixture
def smtputf8_server() -> Iterator[SmtpServer]:
    yield from _serve(enable_SMTPUTF8=True)


@pytest.fixture
def starttls_server(tls_files) -> Iterator[SmtpServer]:
    """STARTTLS required before anything, AUTH (LOGIN/PLAIN) required, with USER/PASSWORD."""
    cert, key = tls_files
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    yield from _serve(tls_context=context, require_starttls=True, auth_required=True,
                      auth_require_tls=True, authenticator=_authenticate)


@pytest.fixture
def smtps_server(tls_files) -> Iterator[SmtpServer]:
    """Implicit TLS (smtps) with AUTH required. (aiosmtpd does not notice that an implicit-TLS
    connection is encrypted, so its "AUTH only over TLS" check is switched off here.)"""
    cert, key = tls_files
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    yield from _serve(ssl_context=context, auth_required=True, auth_require_tls=False,
                      authenticator=_authenticate)


def _serve(port: int | None = None, **kwargs) -> Iterator[SmtpServer]:
    kwargs.setdefault("enable_SMTPUTF8", False)   # aiosmtpd's Controller would turn it on
    handler = Recorder()
    port = port or free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield SmtpServer(controller, handler, port)
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 made now: with the `cryptography` package if it
    is installed, else with the openssl command."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    try:
        _cert_with_cryptography(cert, key)
    except ImportError:
        if shutil.which("openssl") is None:
            pytest.skip("neither the cryptography package nor the openssl command is available")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
            check=True, capture_output=True)
    return cert, key


def _cert_with_cryptography(cert: Path, key: Path) -> None:
    import ipaddress
    from datetime import timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(private.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), critical=False)
        .sign(private, hashes.SHA256()))
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))


@pytest.fixture
def client_tls(tls_files) -> ssl.SSLContext:
    """A client context that trusts the test certificate (and nothing else)."""
    return ssl.create_default_context(cafile=str(tls_files[0]))

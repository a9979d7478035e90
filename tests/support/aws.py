"""Local AWS endpoints for the SES tests, all on 127.0.0.1: moto's server mode (a real HTTP
endpoint that keeps what it is sent) and a small stub of the SES v2 API for what moto does
not do (GetAccount, throttling answers). No test reaches the internet."""
from __future__ import annotations

import json
import threading
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import boto3
import pytest

REGION = "eu-central-1"
SENDER_DOMAIN = "mcin.example.org"


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto in server mode on a free loopback port; yields its URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials and region the standard AWS way (environment), fake ones."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_CONFIG_FILE",
                 "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDTESTING")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@dataclass
class MotoSes:
    url: str
    client: Any

    def sent(self) -> list[Any]:
        """The raw messages moto has accepted, in order (moto's RawMessage: raw_data,
        destinations, id)."""
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ses.models import RawMessage, ses_backends

        return [m for m in ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages if isinstance(m, RawMessage)]


@pytest.fixture
def moto_ses(moto_server: str, aws_env: None) -> MotoSes:
    """moto's SES, emptied, with the sample workspace's domain verified."""
    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST"), timeout=10)
    client = boto3.client("sesv2", endpoint_url=moto_server, region_name=REGION)
    client.create_email_identity(EmailIdentity=SENDER_DOMAIN)
    return MotoSes(moto_server, client)


# -- a stub of the SES v2 API ---------------------------------------------------------------

@dataclass
class SesStub:
    """Answers SendEmail from ``script`` (one (HTTP status, error type, message) per call
    until it runs out, then success) and GetAccount from ``account`` (None: 404, as if the
    endpoint did not offer it)."""

    script: list[tuple[int, str, str]] = field(default_factory=list)
    account: dict[str, Any] | None = None
    sends: list[dict[str, Any]] = field(default_factory=list)     # every SendEmail request body
    delivered: list[dict[str, Any]] = field(default_factory=list)  # the ones answered with success
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, str], dict[str, Any]]:
        if method == "GET" and path == "/v2/email/account":
            if self.account is None:
                return 404, {"x-amzn-ErrorType": "UnknownOperationException"}, {"message": "not offered"}
            return 200, {}, self.account
        if method == "POST" and path == "/v2/email/outbound-emails":
            request = json.loads(body)
            with self.lock:
                self.sends.append(request)
                if self.script:
                    status, kind, message = self.script.pop(0)
                    return status, {"x-amzn-ErrorType": kind}, {"message": message}
                self.delivered.append(request)
                return 200, {}, {"MessageId": f"stub-{len(self.delivered):04d}"}
        return 404, {"x-amzn-ErrorType": "UnknownOperationException"}, {"message": path}


@pytest.fixture
def ses_stub(aws_env: None) -> Iterator[SesStub]:
    stub = SesStub()

    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, headers, payload = stub.answer(self.command, self.path.split("?")[0], body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            for name, value in {**headers, "Content-Type": "application/json",
                                "Content-Length": str(len(data))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _reply

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield stub
    server.shutdown()
    server.server_close()

"""The webhooks on a real server (Starlette on uvicorn, loopback): requests shaped like each
service's documented payloads, signed with test keys, record the right events; the same
requests unsigned or wrongly signed are refused and change nothing. The SNS signing
certificate comes from a local HTTPS server that the test allow-lists."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import ssl
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from newsletter.feedback.events import COMPLAINT, DELAY, HARD_BOUNCE, SOFT_BOUNCE, UNSUBSCRIBE, EventStore
from newsletter.feedback.webhooks import feedback_app, sns_string_to_sign
from tests.feedback.conftest import FeedbackWorkspace

POSTMARK_USER, POSTMARK_PASSWORD = "postmark-hook", "pm sécret"
MAILGUN_KEY = "key-mailgun-test-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CertServer:
    """A local HTTPS server standing in for sns.<region>.amazonaws.com: it serves the signing
    certificate and counts subscription confirmations."""

    def __init__(self, tls_files, pem: bytes):
        self.confirmed: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                if self.path.startswith("/cert.pem"):
                    body = pem
                elif self.path.startswith("/confirm"):
                    outer.confirmed.append(self.path)
                    body = b"<ConfirmSubscriptionResponse/>"
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*tls_files)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def signing_identity() -> tuple[rsa.RSAPrivateKey, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1)).sign(key, hashes.SHA256()))
    return key, cert.public_bytes(serialization.Encoding.PEM)


class Server:
    """The feedback app on uvicorn, on a free loopback port."""

    def __init__(self, app):
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self.server.started

    def post(self, path: str, **kwargs) -> httpx.Response:
        return httpx.post(f"http://127.0.0.1:{self.port}{path}", timeout=10, **kwargs)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def hooks(fb: FeedbackWorkspace, tls_files, monkeypatch):
    sg_key = ec.generate_private_key(ec.SECP256R1())
    sg_public = base64.b64encode(sg_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode()
    sns_key, pem = signing_identity()
    certs = CertServer(tls_files, pem)
    settings = fb.root / "newsletter.yaml"
    settings.write_text(settings.read_text() + (
        "feedback:\n  webhooks:\n"
        "    sns_certificate_hosts: ['sns.*.amazonaws.com', '127.0.0.1']\n"
        f"    postmark_username: {POSTMARK_USER}\n"
        f"    sendgrid_public_key: {sg_public}\n"))
    monkeypatch.setenv("NEWSLETTER_POSTMARK_PASSWORD", POSTMARK_PASSWORD)
    monkeypatch.setenv("NEWSLETTER_MAILGUN_SIGNING_KEY", MAILGUN_KEY)
    client_tls = ssl.create_default_context(cafile=str(tls_files[0]))
    server = Server(feedback_app(fb.ws, ssl_context=client_tls))
    yield Hooks(fb, server, certs, sns_key, sg_key)
    server.stop()
    certs.stop()


class Hooks:
    def __init__(self, fb, server, certs, sns_key, sg_key):
        self.fb, self.server, self.certs, self.sns_key, self.sg_key = fb, server, certs, sns_key, sg_key

    def events(self):
        with EventStore(self.fb.ws.db_path) as store:
            return [(e.event.kind, e.event.email, e.event.subscriber, e.event.campaign, e.event.source)
                    for e in store.all()]

    def sns(self, message: dict | None, *, kind: str = "Notification", version: str = "1",
            cert_url: str | None = None, tamper: bool = False, sign_with=None) -> dict:
        body = {"Type": kind, "MessageId": f"m-{time.monotonic_ns()}", "TopicArn": "arn:aws:sns:eu-west-1:1:ses",
                "Message": json.dumps(message) if message is not None else "confirm me",
                "Timestamp": "2026-11-03T09:05:00.000Z", "SignatureVersion": version,
                "SigningCertURL": cert_url or self.certs.url("/cert.pem")}
        if kind == "SubscriptionConfirmation":
            body["Token"] = "tok"
            body["SubscribeURL"] = self.certs.url("/confirm?Action=ConfirmSubscription&Token=tok")
        else:
            body["Subject"] = "Amazon SES Email Event Notification"
        digest = hashes.SHA1() if version == "1" else hashes.SHA256()
        signature = (sign_with or self.sns_key).sign(sns_string_to_sign(body), padding.PKCS1v15(), digest)
        body["Signature"] = base64.b64encode(signature).decode()
        if tamper:
            body["Message"] = body["Message"].replace("Permanent", "Transient")
        return body

    def sendgrid_headers(self, raw: bytes, *, key=None, timestamp: str | None = None) -> dict:
        ts = timestamp or str(int(time.time()))
        signature = (key or self.sg_key).sign(ts.encode() + raw, ec.ECDSA(hashes.SHA256()))
        return {"X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
                "X-Twilio-Email-Event-Webhook-Timestamp": ts, "Content-Type": "application/json"}


def ses_bounce(fb, name: str, bounce_type: str = "Permanent", status: str = "5.1.1", campaign: int = 4) -> dict:
    return {"notificationType": "Bounce",
            "bounce": {"bounceType": bounce_type, "bounceSubType": "General", "feedbackId": f"fb-{name}-{status}",
                       "bouncedRecipients": [{"emailAddress": fb.email(name), "action": "failed", "status": status,
                                              "diagnosticCode": f"smtp; 550 {status} user unknown"}]},
            "mail": {"messageId": "ses-1", "source": fb.return_path(name, campaign), "destination": [fb.email(name)]}}


def ses_complaint(fb, name: str) -> dict:
    return {"notificationType": "Complaint",
            "complaint": {"feedbackId": f"c-{name}", "complaintFeedbackType": "abuse",
                          "complainedRecipients": [{"emailAddress": fb.email(name)}]},
            "mail": {"messageId": "ses-2", "source": "news@mcin.example.org", "destination": [fb.email(name)]}}


def test_ses_through_sns_bounce_complaint_delivery_and_subscription(hooks) -> None:
    fb = hooks.fb
    confirm = hooks.server.post("/feedback/ses", json=hooks.sns(None, kind="SubscriptionConfirmation"))
    assert confirm.status_code == 200, confirm.text
    assert len(hooks.certs.confirmed) == 1

    r = hooks.server.post("/feedback/ses", json=hooks.sns(ses_bounce(fb, "gone1")))
    assert r.status_code == 200 and r.json() == {"received": 1, "recorded": 1}
    r = hooks.server.post("/feedback/ses", json=hooks.sns(ses_bounce(fb, "full1", "Transient", "4.2.2"), version="2"))
    assert r.status_code == 200, r.text
    r = hooks.server.post("/feedback/ses", json=hooks.sns(ses_complaint(fb, "eva")))
    assert r.status_code == 200
    delivery = {"notificationType": "Delivery", "mail": {"messageId": "x", "source": "news@mcin.example.org"},
                "delivery": {"recipients": [fb.email("ann")]}}
    assert hooks.server.post("/feedback/ses", json=hooks.sns(delivery)).json() == {"received": 0, "recorded": 0}
    # SNS retries deliveries: the same bounce again is recorded once.
    assert hooks.server.post("/feedback/ses", json=hooks.sns(ses_bounce(fb, "gone1"))).json()["recorded"] == 0

    assert sorted(hooks.events()) == sorted([
        (HARD_BOUNCE, fb.email("gone1"), fb.sid("gone1"), 4, "ses"),
        (SOFT_BOUNCE, fb.email("full1"), fb.sid("full1"), 4, "ses"),
        (COMPLAINT, fb.email("eva"), fb.sid("eva"), None, "ses")])
    assert [fb.status(n) for n in ("gone1", "full1", "eva")] == ["cleaned", "subscribed", "unsubscribed"]


def test_sns_refuses_bad_signatures_and_foreign_certificates(hooks) -> None:
    fb = hooks.fb
    other_key, _ = signing_identity()
    bad = [
        hooks.sns(ses_bounce(fb, "gone2"), tamper=True),                              # body changed after signing
        hooks.sns(ses_bounce(fb, "gone2"), sign_with=other_key),                      # someone else's key
        hooks.sns(ses_bounce(fb, "gone2"), cert_url="https://evil.example.com/cert.pem"),   # host not allowed
        hooks.sns(ses_bounce(fb, "gone2"), cert_url=f"http://127.0.0.1:{hooks.certs.port}/cert.pem"),  # not https
        {**hooks.sns(ses_bounce(fb, "gone2")), "Signature": ""},                      # unsigned
        hooks.sns(ses_bounce(fb, "gone2"), version="3"),
    ]
    for body in bad:
        r = hooks.server.post("/feedback/ses", json=body)
        assert r.status_code in (401, 403), (r.status_code, r.text)
    sub = hooks.sns(None, kind="SubscriptionConfirmation", cert_url="https://sns.eu-west-1.amazonaws.com.evil.example/c.pem")
    assert hooks.server.post("/feedback/ses", json=sub).status_code == 403
    assert hooks.certs.confirmed == []
    assert hooks.events() == [] and fb.status("gone2") == "subscribed"


def test_postmark_basic_auth(hooks) -> None:
    fb = hooks.fb
    bounce = {"RecordType": "Bounce", "ID": 4323372036854775807, "Type": "HardBounce", "TypeCode": 1,
              "Email": fb.email("gone1"), "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist",
              "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483"}
    spam = {"RecordType": "SpamComplaint", "ID": 42, "Type": "SpamComplaint", "Email": fb.email("eva")}
    soft = {"RecordType": "Bounce", "ID": 43, "Type": "SoftBounce", "Email": fb.email("full1"), "Details": "mailbox full"}
    auto = {"RecordType": "Bounce", "ID": 44, "Type": "AutoResponder", "Email": fb.email("ann"), "Details": "away"}
    for wrong in (None, (POSTMARK_USER, "wrong"), ("someone", POSTMARK_PASSWORD)):
        r = hooks.server.post("/feedback/postmark", json=bounce, auth=wrong)
        assert r.status_code in (401, 403)
    assert hooks.events() == []
    for body in (bounce, spam, soft, auto):
        r = hooks.server.post("/feedback/postmark", json=body, auth=(POSTMARK_USER, POSTMARK_PASSWORD))
        assert r.status_code == 200, r.text
    assert sorted(hooks.events()) == sorted([
        (HARD_BOUNCE, fb.email("gone1"), fb.sid("gone1"), None, "postmark"),
        (COMPLAINT, fb.email("eva"), fb.sid("eva"), None, "postmark"),
        (SOFT_BOUNCE, fb.email("full1"), fb.sid("full1"), None, "postmark")])
    assert [fb.status(n) for n in ("gone1", "eva", "full1", "ann")] == ["cleaned", "unsubscribed", "subscribed", "subscribed"]


def mailgun_body(fb, event: str, name: str, *, key: str = MAILGUN_KEY, timestamp: int | None = None, **data) -> dict:
    ts = str(timestamp or int(time.time()))
    token = f"token-{event}-{name}-{time.monotonic_ns()}"
    signature = hmac.new(key.encode(), (ts + token).encode(), hashlib.sha256).hexdigest()
    event_data = {"event": event, "id": f"mg-{event}-{name}", "recipient": fb.email(name),
                  "envelope": {"sender": fb.return_path(name, 9)}, **data}
    return {"signature": {"timestamp": ts, "token": token, "signature": signature}, "event-data": event_data}


def test_mailgun_hmac(hooks) -> None:
    fb = hooks.fb
    failed = dict(severity="permanent", reason="bounce",
                  **{"delivery-status": {"code": 550, "enhanced-code": "5.1.1", "message": "No such user"}})
    assert hooks.server.post("/feedback/mailgun", json=mailgun_body(fb, "failed", "gone1", key="wrong", **failed)).status_code == 403
    stale = mailgun_body(fb, "failed", "gone1", timestamp=int(time.time()) - 3600, **failed)
    assert hooks.server.post("/feedback/mailgun", json=stale).status_code == 403
    unsigned = mailgun_body(fb, "failed", "gone1", **failed)
    del unsigned["signature"]
    assert hooks.server.post("/feedback/mailgun", json=unsigned).status_code == 401
    assert hooks.events() == []

    temp = dict(severity="temporary", reason="generic",
                **{"delivery-status": {"code": 452, "enhanced-code": "4.2.2", "message": "full"}})
    for body in (mailgun_body(fb, "failed", "gone1", **failed), mailgun_body(fb, "failed", "full1", **temp),
                 mailgun_body(fb, "complained", "eva"), mailgun_body(fb, "unsubscribed", "finn"),
                 mailgun_body(fb, "delivered", "ann")):
        r = hooks.server.post("/feedback/mailgun", json=body)
        assert r.status_code == 200, r.text
    assert sorted(hooks.events()) == sorted([
        (HARD_BOUNCE, fb.email("gone1"), fb.sid("gone1"), 9, "mailgun"),
        (DELAY, fb.email("full1"), fb.sid("full1"), 9, "mailgun"),
        (COMPLAINT, fb.email("eva"), fb.sid("eva"), 9, "mailgun"),
        (UNSUBSCRIBE, fb.email("finn"), fb.sid("finn"), 9, "mailgun")])
    assert [fb.status(n) for n in ("gone1", "full1", "eva", "finn", "ann")] == \
        ["cleaned", "subscribed", "unsubscribed", "unsubscribed", "subscribed"]


def test_sendgrid_signed_event_webhook(hooks) -> None:
    fb = hooks.fb
    items = [
        {"email": fb.email("gone1"), "event": "bounce", "type": "bounce", "status": "5.1.1",
         "reason": "550 5.1.1 user unknown", "sg_event_id": "sg-1", "timestamp": 1700000000},
        {"email": fb.email("full1"), "event": "deferred", "response": "452 4.2.2 full", "sg_event_id": "sg-2"},
        {"email": fb.email("eva"), "event": "spamreport", "sg_event_id": "sg-3"},
        {"email": fb.email("finn"), "event": "group_unsubscribe", "sg_event_id": "sg-4"},
        {"email": fb.email("dana"), "event": "bounce", "type": "blocked", "status": "5.7.1",
         "reason": "550 5.7.1 policy", "sg_event_id": "sg-5"},
        {"email": fb.email("ann"), "event": "delivered", "sg_event_id": "sg-6"},
    ]
    raw = json.dumps(items).encode()
    other = ec.generate_private_key(ec.SECP256R1())
    assert hooks.server.post("/feedback/sendgrid", content=raw, headers=hooks.sendgrid_headers(raw, key=other)).status_code == 403
    tampered = raw.replace(b"spamreport", b"delivered")
    assert hooks.server.post("/feedback/sendgrid", content=tampered, headers=hooks.sendgrid_headers(raw)).status_code == 403
    assert hooks.server.post("/feedback/sendgrid", content=raw, headers={"Content-Type": "application/json"}).status_code == 401
    old = str(int(time.time()) - 3600)
    assert hooks.server.post("/feedback/sendgrid", content=raw, headers=hooks.sendgrid_headers(raw, timestamp=old)).status_code == 403
    assert hooks.events() == []

    r = hooks.server.post("/feedback/sendgrid", content=raw, headers=hooks.sendgrid_headers(raw))
    assert r.status_code == 200 and r.json() == {"received": 5, "recorded": 5}
    assert sorted(hooks.events()) == sorted([
        (HARD_BOUNCE, fb.email("gone1"), fb.sid("gone1"), None, "sendgrid"),
        (DELAY, fb.email("full1"), fb.sid("full1"), None, "sendgrid"),
        (COMPLAINT, fb.email("eva"), fb.sid("eva"), None, "sendgrid"),
        (UNSUBSCRIBE, fb.email("finn"), fb.sid("finn"), None, "sendgrid"),
        (SOFT_BOUNCE, fb.email("dana"), fb.sid("dana"), None, "sendgrid")])
    assert [fb.status(n) for n in ("gone1", "eva", "finn", "dana")] == ["cleaned", "unsubscribed", "unsubscribed", "subscribed"]


def test_get_is_not_allowed_and_unconfigured_services_refuse(fb: FeedbackWorkspace) -> None:
    server = Server(feedback_app(fb.ws))
    try:
        assert httpx.get(f"http://127.0.0.1:{server.port}/feedback/ses").status_code == 405
        assert server.post("/feedback/postmark", json={}, auth=("a", "b")).status_code == 403
        assert server.post("/feedback/mailgun", json={"signature": {}}).status_code in (401, 403)
        assert server.post("/feedback/sendgrid", content=b"[]").status_code == 403
    finally:
        server.stop()


def test_newsletter_serve_mounts_the_webhooks(fb: FeedbackWorkspace, monkeypatch) -> None:
    """The routes as `newsletter serve` mounts them (by name, as its worker processes do): a
    genuine Postmark bounce is recorded through the readers' app, with its security headers;
    a wrong password is refused there too."""
    from newsletter.commands.serve import FEEDBACK_ROUTES
    from newsletter.web.app import build_app
    from newsletter.web.server import Running, extra_routes

    settings = fb.root / "newsletter.yaml"
    settings.write_text(settings.read_text() + f"feedback:\n  webhooks:\n    postmark_username: {POSTMARK_USER}\n")
    monkeypatch.setenv("NEWSLETTER_POSTMARK_PASSWORD", POSTMARK_PASSWORD)
    ws = fb.ws
    bounce = {"RecordType": "Bounce", "ID": 7, "Type": "HardBounce", "Email": fb.email("gone2"),
              "Details": "smtp;550 5.1.1 no such user"}
    with Running(build_app(ws, extra_routes=extra_routes(FEEDBACK_ROUTES, ws))) as url:
        refused = httpx.post(f"{url}/feedback/postmark", json=bounce, auth=(POSTMARK_USER, "wrong"), timeout=10)
        assert refused.status_code == 403 and fb.status("gone2") == "subscribed"
        done = httpx.post(f"{url}/feedback/postmark", json=bounce, auth=(POSTMARK_USER, POSTMARK_PASSWORD), timeout=10)
        assert done.status_code == 200, done.text
        assert done.headers.get("x-content-type-options") == "nosniff"
        assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200   # the readers' app itself
    assert fb.status("gone2") == "cleaned"

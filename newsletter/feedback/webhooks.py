"""Webhooks: mail services report bounces and complaints over HTTP, into the same events as
the mailbox.

==============  ===========================  ==========================================================
URL             service                      how a request is proven genuine
==============  ===========================  ==========================================================
/feedback/ses   Amazon SES through SNS       SNS signature (v1 SHA1 / v2 SHA256) with the certificate
                                             from SigningCertURL, only from an allow-listed https host
                                             (``feedback.webhooks.sns_certificate_hosts``)
/feedback/postmark  Postmark                 HTTP basic auth (``postmark_username``,
                                             NEWSLETTER_POSTMARK_PASSWORD)
/feedback/mailgun   Mailgun                  HMAC-SHA256 of timestamp + token (NEWSLETTER_MAILGUN_SIGNING_KEY),
                                             timestamp at most 15 minutes old
/feedback/sendgrid  SendGrid Event Webhook   ECDSA P-256 signature of timestamp + body
                                             (``sendgrid_public_key``)
==============  ===========================  ==========================================================

An unsigned or wrongly signed request is refused (401/403) before its body is read for
meaning, and changes nothing. Endpoints are small: verify, map to ``Event``s, hand them to
``apply.record`` (the same function the mailbox uses). Each event's key is the provider's own
event id, so a retried webhook is recorded once.

``routes(ws)`` gives the Starlette routes, for ``newsletter serve`` to mount;
``feedback_app(ws)`` wraps them in an app of their own.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import re
import ssl
import threading
import time
import urllib.request
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from newsletter.core import verp
from newsletter.core.config import Workspace, env_secret
from newsletter.delivery.replies import Verdict, classify_status
from newsletter.feedback.apply import Policy, record
from newsletter.feedback.events import (COMPLAINT, DELAY, HARD_BOUNCE, SOFT_BOUNCE, UNSUBSCRIBE, Event,
                                        EventStore)
from newsletter.subscribers.store import Store

log = logging.getLogger(__name__)
POSTMARK_PASSWORD_ENV = "NEWSLETTER_POSTMARK_PASSWORD"
MAILGUN_KEY_ENV = "NEWSLETTER_MAILGUN_SIGNING_KEY"
MAX_AGE_SECONDS = 15 * 60
MAX_BODY = 1_000_000
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")


class Refused(Exception):
    """The request is not proven to come from the service: answer ``status``, change nothing."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class Hooks:
    """The workspace and what the endpoints need: how to fetch an SNS certificate (and
    confirm a subscription), and the clock for signature ages."""

    ws: Workspace
    ssl_context: ssl.SSLContext | None = None
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        self._certs: dict[str, Any] = {}
        self._lock = threading.Lock()

    # -- shared ------------------------------------------------------------------------------

    def record_all(self, events: list[Event]) -> dict[str, int]:
        """Store and apply events (in a worker thread: SQLite blocks)."""
        ws = self.ws
        counts = {"received": len(events), "recorded": 0}
        with Store.open(ws) as store, EventStore(ws.db_path) as stored:
            policy = Policy.from_settings(ws.settings)
            for event in events:
                if record(stored, store, event, policy).new:
                    counts["recorded"] += 1
        return counts

    def who(self, store_email: str, *return_paths: str) -> tuple[int | None, int | None]:
        """(subscriber, campaign) from a VERP return path, else the address looked up."""
        key, domain = self.ws.secrets.secret_key, self.ws.settings.delivery.bounce_domain
        for text in return_paths:
            found = verp.parse(key, text or "", domain) if text else None
            if found:
                return found.subscriber, found.campaign
        if not store_email:
            return None, None
        with Store.open(self.ws) as store:
            sub = store.get(store_email)
        return (sub.stored_id if sub else None), None

    def fetch(self, url: str) -> bytes:
        request = urllib.request.Request(url, headers={"User-Agent": "newsletter-feedback"})
        with urllib.request.urlopen(request, timeout=10, context=self.ssl_context) as response:
            return response.read(MAX_BODY)

    # -- Amazon SES through SNS --------------------------------------------------------------

    def sns_certificate(self, url: str) -> Any:
        self._check_sns_url(url, "SigningCertURL")
        with self._lock:
            cert = self._certs.get(url)
        if cert is None:
            try:
                cert = x509.load_pem_x509_certificate(self.fetch(url))
            except (OSError, ValueError) as exc:
                raise Refused(403, f"cannot load the SNS signing certificate: {exc}") from None
            with self._lock:
                self._certs[url] = cert
        return cert

    def _check_sns_url(self, url: str, what: str) -> None:
        parts = urlsplit(url or "")
        hosts = self.ws.settings.feedback.webhooks.sns_certificate_hosts
        if parts.scheme != "https" or not parts.hostname or not any(_host_matches(parts.hostname, h) for h in hosts):
            raise Refused(403, f"{what} {url!r} is not https on an allowed host ({', '.join(hosts)})")


def _host_matches(host: str, pattern: str) -> bool:
    """``sns.*.amazonaws.com``: each * stands for exactly one DNS label."""
    regex = r"\.".join("[a-z0-9-]+" if label == "*" else re.escape(label) for label in pattern.lower().split("."))
    return re.fullmatch(regex, host.lower()) is not None


_SNS_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
    "UnsubscribeConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
}


def sns_string_to_sign(body: dict[str, Any]) -> bytes:
    """The canonical text SNS signs (AWS: "Verifying the signatures of Amazon SNS messages")."""
    fields = _SNS_FIELDS.get(body.get("Type", ""))
    if fields is None:
        raise Refused(400, f"unknown SNS message type {body.get('Type')!r}")
    text = ""
    for name in fields:
        if name == "Subject" and body.get("Subject") is None:
            continue
        value = body.get(name)
        if not isinstance(value, str):
            raise Refused(400, f"the SNS message has no {name}")
        text += f"{name}\n{value}\n"
    return text.encode("utf-8")


def verify_sns(hooks: Hooks, body: dict[str, Any]) -> None:
    version = str(body.get("SignatureVersion", ""))
    algorithm = {"1": hashes.SHA1(), "2": hashes.SHA256()}.get(version)
    if algorithm is None:
        raise Refused(403, f"unsupported SNS SignatureVersion {version!r}")
    try:
        signature = base64.b64decode(body.get("Signature") or "", validate=True)
    except (binascii.Error, ValueError):
        raise Refused(403, "the SNS signature is not base64") from None
    if not signature:
        raise Refused(401, "the SNS message is not signed")
    message = sns_string_to_sign(body)
    key = hooks.sns_certificate(body.get("SigningCertURL", "")).public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise Refused(403, "the SNS certificate does not hold an RSA key")
    try:
        key.verify(signature, message, padding.PKCS1v15(), algorithm)
    except InvalidSignature:
        raise Refused(403, "the SNS signature does not match") from None
    topics = hooks.ws.settings.feedback.webhooks.sns_topics
    if topics and body.get("TopicArn") not in topics:
        raise Refused(403, f"SNS topic {body.get('TopicArn')!r} is not in feedback.webhooks.sns_topics")


def ses_events(hooks: Hooks, notification: dict[str, Any]) -> list[Event]:
    """A SES notification (or event publishing record): Bounce, Complaint, Delivery."""
    kind = notification.get("notificationType") or notification.get("eventType") or ""
    mail = notification.get("mail") or {}
    paths = [str(mail.get("source", ""))] + [str(h.get("value", "")) for h in mail.get("headers") or []
                                            if str(h.get("name", "")).lower() == "return-path"]
    out = []
    if kind == "Bounce":
        bounce = notification.get("bounce") or {}
        for r in bounce.get("bouncedRecipients") or []:
            email = str(r.get("emailAddress", ""))
            status = _status(str(r.get("status", ""))) or _status(str(r.get("diagnosticCode", "")))
            if status:
                event_kind = _bounce_kind(status)
            else:
                event_kind = HARD_BOUNCE if bounce.get("bounceType") == "Permanent" else SOFT_BOUNCE
            sid, cid = hooks.who(email, *paths)
            out.append(Event(event_kind, f"ses:{bounce.get('feedbackId', mail.get('messageId'))}:{email.lower()}",
                             "ses", email, sid, cid, status, str(r.get("diagnosticCode", "")),
                             {"bounce_type": bounce.get("bounceType"), "bounce_subtype": bounce.get("bounceSubType")}))
    elif kind == "Complaint":
        complaint = notification.get("complaint") or {}
        if complaint.get("complaintFeedbackType", "abuse") in ("abuse", "fraud", "virus", None):
            for r in complaint.get("complainedRecipients") or []:
                email = str(r.get("emailAddress", ""))
                sid, cid = hooks.who(email, *paths)
                out.append(Event(COMPLAINT, f"ses:{complaint.get('feedbackId', mail.get('messageId'))}:{email.lower()}",
                                 "ses", email, sid, cid,
                                 detail={"feedback_type": complaint.get("complaintFeedbackType")}))
    elif kind == "DeliveryDelay":
        delay = notification.get("deliveryDelay") or {}
        for r in delay.get("delayedRecipients") or []:
            email = str(r.get("emailAddress", ""))
            sid, cid = hooks.who(email, *paths)
            out.append(Event(DELAY, f"ses:delay:{mail.get('messageId')}:{delay.get('timestamp')}:{email.lower()}",
                             "ses", email, sid, cid, _status(str(r.get("status", ""))),
                             str(r.get("diagnosticCode", ""))))
    return out   # Delivery and anything else: nothing went wrong


async def ses_endpoint(request: Request) -> JSONResponse:
    hooks = _hooks(request)
    body = await _json(request)
    if not isinstance(body, dict):
        raise Refused(400, "expected an SNS message (a JSON object)")
    await run_in_threadpool(verify_sns, hooks, body)
    kind = body["Type"]
    if kind == "SubscriptionConfirmation":
        hooks._check_sns_url(body.get("SubscribeURL", ""), "SubscribeURL")
        await run_in_threadpool(hooks.fetch, body["SubscribeURL"])
        log.info("confirmed the SNS subscription to %s", body.get("TopicArn"))
        return JSONResponse({"confirmed": body.get("TopicArn")})
    if kind == "UnsubscribeConfirmation":
        return JSONResponse({"ignored": kind})
    try:
        notification = json.loads(body["Message"])
    except (TypeError, ValueError):
        raise Refused(400, "the SNS Message is not a SES notification (JSON)") from None
    events = await run_in_threadpool(ses_events, hooks, notification if isinstance(notification, dict) else {})
    return JSONResponse(await run_in_threadpool(hooks.record_all, events))


# -- Postmark ---------------------------------------------------------------------------------

_POSTMARK_HARD = {"HardBounce", "BadEmailAddress", "ManuallyDeactivated"}
_POSTMARK_IGNORED = {"AutoResponder", "Subscribe", "OpenRelayTest", "Unknown", "ChallengeVerification"}


def verify_postmark(hooks: Hooks, request: Request) -> None:
    expected_user = hooks.ws.settings.feedback.webhooks.postmark_username
    expected_password = env_secret(POSTMARK_PASSWORD_ENV)
    if not expected_user or not expected_password:
        raise Refused(403, f"Postmark webhooks are off: set feedback.webhooks.postmark_username and {POSTMARK_PASSWORD_ENV}")
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        raise Refused(401, "Postmark webhook without basic auth")
    try:
        user, _, password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, ValueError):
        raise Refused(401, "malformed basic auth") from None
    ok_user = hmac.compare_digest(user.encode(), expected_user.encode())
    ok_password = hmac.compare_digest(password.encode(), expected_password.encode())
    if not (ok_user and ok_password):
        raise Refused(403, "wrong Postmark webhook credentials")


def postmark_events(hooks: Hooks, body: dict[str, Any]) -> list[Event]:
    record_type = body.get("RecordType")
    email = str(body.get("Email") or body.get("Recipient") or "")
    key = f"postmark:{record_type}:{body.get('ID') or body.get('MessageID')}:{email.lower()}"
    sid, cid = hooks.who(email, str(body.get("ReturnPath", "")))
    if record_type == "Bounce":
        kind_name = str(body.get("Type", ""))
        if kind_name in _POSTMARK_IGNORED:
            return []
        status = _status(str(body.get("Details", "")))
        if status:
            kind = _bounce_kind(status)
        else:
            kind = HARD_BOUNCE if kind_name in _POSTMARK_HARD else SOFT_BOUNCE
        return [Event(kind, key, "postmark", email, sid, cid, status, str(body.get("Details", "")),
                      {"type": kind_name})]
    if record_type == "SpamComplaint":
        return [Event(COMPLAINT, key, "postmark", email, sid, cid)]
    if record_type == "SubscriptionChange" and body.get("SuppressSending") and \
            body.get("SuppressionReason") == "ManualSuppression":
        return [Event(UNSUBSCRIBE, key, "postmark", email, sid, cid, detail={"via": "Postmark unsubscribe"})]
    return []


async def postmark_endpoint(request: Request) -> JSONResponse:
    hooks = _hooks(request)
    verify_postmark(hooks, request)
    body = await _json(request)
    if not isinstance(body, dict):
        raise Refused(400, "expected a Postmark webhook (a JSON object)")
    events = await run_in_threadpool(postmark_events, hooks, body)
    return JSONResponse(await run_in_threadpool(hooks.record_all, events))


# -- Mailgun ----------------------------------------------------------------------------------

def verify_mailgun(hooks: Hooks, body: dict[str, Any]) -> None:
    key = env_secret(MAILGUN_KEY_ENV)
    if not key:
        raise Refused(403, f"Mailgun webhooks are off: set {MAILGUN_KEY_ENV}")
    sig = body.get("signature")
    if not isinstance(sig, dict) or not all(isinstance(sig.get(k), str) for k in ("timestamp", "token", "signature")):
        raise Refused(401, "Mailgun webhook without a signature")
    expected = hmac.new(key.encode(), (sig["timestamp"] + sig["token"]).encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, sig["signature"].lower()):
        raise Refused(403, "the Mailgun signature does not match")
    _fresh(hooks, sig["timestamp"], "Mailgun")


def mailgun_events(hooks: Hooks, data: dict[str, Any]) -> list[Event]:
    event = data.get("event")
    email = str(data.get("recipient", ""))
    envelope = data.get("envelope") or {}
    sid, cid = hooks.who(email, str(envelope.get("sender", "")))
    key = f"mailgun:{data.get('id')}"
    if event == "failed":
        status_info = data.get("delivery-status") or {}
        text = f"{status_info.get('code', '')} {status_info.get('enhanced-code', '')} {status_info.get('message', '')}"
        status = _status(str(status_info.get("enhanced-code", ""))) or _status(text)
        if data.get("severity") == "temporary":
            kind = DELAY          # Mailgun is still retrying; its last attempt reports "permanent"
        elif status:
            kind = _bounce_kind(status)
        else:
            kind = HARD_BOUNCE if str(status_info.get("code", "")) in ("550", "551", "553") else SOFT_BOUNCE
        return [Event(kind, key, "mailgun", email, sid, cid, status, " ".join(text.split()),
                      {"severity": data.get("severity"), "reason": data.get("reason")})]
    if event == "complained":
        return [Event(COMPLAINT, key, "mailgun", email, sid, cid)]
    if event == "unsubscribed":
        return [Event(UNSUBSCRIBE, key, "mailgun", email, sid, cid, detail={"via": "Mailgun unsubscribe"})]
    return []


async def mailgun_endpoint(request: Request) -> JSONResponse:
    hooks = _hooks(request)
    body = await _json(request)
    if not isinstance(body, dict):
        raise Refused(400, "expected a Mailgun webhook (a JSON object)")
    verify_mailgun(hooks, body)
    data = body.get("event-data")
    events = await run_in_threadpool(mailgun_events, hooks, data if isinstance(data, dict) else {})
    return JSONResponse(await run_in_threadpool(hooks.record_all, events))


# -- SendGrid ---------------------------------------------------------------------------------

SENDGRID_SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
SENDGRID_TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"


def verify_sendgrid(hooks: Hooks, headers: Any, raw: bytes) -> None:
    key_text = hooks.ws.settings.feedback.webhooks.sendgrid_public_key
    if not key_text:
        raise Refused(403, "SendGrid webhooks are off: set feedback.webhooks.sendgrid_public_key")
    signature, timestamp = headers.get(SENDGRID_SIGNATURE), headers.get(SENDGRID_TIMESTAMP)
    if not signature or not timestamp:
        raise Refused(401, "SendGrid webhook without a signature")
    try:
        key = serialization.load_der_public_key(base64.b64decode(key_text))
        der_signature = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise Refused(403, "malformed SendGrid signature or key") from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise Refused(403, "feedback.webhooks.sendgrid_public_key is not an ECDSA key")
    try:
        key.verify(der_signature, timestamp.encode() + raw, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise Refused(403, "the SendGrid signature does not match") from None
    _fresh(hooks, timestamp, "SendGrid")


def sendgrid_events(hooks: Hooks, items: list[Any]) -> list[Event]:
    out = []
    for item in items:
        if not isinstance(item, dict):
            continue
        name, email = item.get("event"), str(item.get("email", ""))
        sid, cid = hooks.who(email)
        key = f"sendgrid:{item.get('sg_event_id')}"
        status = _status(str(item.get("status", ""))) or _status(str(item.get("reason", "")))
        if name == "bounce":
            kind = _bounce_kind(status) if status else (SOFT_BOUNCE if item.get("type") == "blocked" else HARD_BOUNCE)
            out.append(Event(kind, key, "sendgrid", email, sid, cid, status, str(item.get("reason", "")),
                             {"type": item.get("type")}))
        elif name == "deferred":
            out.append(Event(DELAY, key, "sendgrid", email, sid, cid, status, str(item.get("response", ""))))
        elif name == "spamreport":
            out.append(Event(COMPLAINT, key, "sendgrid", email, sid, cid))
        elif name in ("unsubscribe", "group_unsubscribe"):
            out.append(Event(UNSUBSCRIBE, key, "sendgrid", email, sid, cid, detail={"via": f"SendGrid {name}"}))
    return out


async def sendgrid_endpoint(request: Request) -> JSONResponse:
    hooks = _hooks(request)
    raw = await _body(request)
    verify_sendgrid(hooks, request.headers, raw)
    try:
        items = json.loads(raw)
    except ValueError:
        raise Refused(400, "the SendGrid webhook body is not JSON") from None
    events = await run_in_threadpool(sendgrid_events, hooks, items if isinstance(items, list) else [])
    return JSONResponse(await run_in_threadpool(hooks.record_all, events))


# -- plumbing ---------------------------------------------------------------------------------

def _bounce_kind(status: str) -> str:
    return HARD_BOUNCE if classify_status(status).verdict is Verdict.HARD_BOUNCE else SOFT_BOUNCE


def _status(text: str) -> str:
    match = _STATUS.search(text or "")
    return ".".join(match.groups()) if match else ""


def _fresh(hooks: Hooks, timestamp: str, service: str) -> None:
    """A replayed request (an old signature) is refused."""
    try:
        age = abs(hooks.clock() - float(timestamp))
    except ValueError:
        raise Refused(403, f"{service} timestamp {timestamp!r} is not a number") from None
    if age > MAX_AGE_SECONDS:
        raise Refused(403, f"{service} signature is {age:.0f} s old (more than {MAX_AGE_SECONDS} s)")


async def _body(request: Request) -> bytes:
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            raise Refused(413, "request body too large")
    return raw


async def _json(request: Request) -> Any:
    raw = await _body(request)
    try:
        return json.loads(raw)
    except ValueError:
        raise Refused(400, "the body is not JSON") from None


def _hooks(request: Request) -> Hooks:
    return request.scope["feedback_hooks"]


def _guarded(endpoint: Callable, hooks: Hooks) -> Callable:
    """Give the endpoint its Hooks, and answer Refused with its status (nothing changed)."""
    async def run(request: Request) -> JSONResponse:
        request.scope["feedback_hooks"] = hooks
        try:
            return await endpoint(request)
        except Refused as exc:
            log.warning("%s %s refused: %s", request.method, request.url.path, exc.reason)
            return JSONResponse({"error": exc.reason}, status_code=exc.status)
    return run


ENDPOINTS = {"ses": ses_endpoint, "postmark": postmark_endpoint, "mailgun": mailgun_endpoint,
             "sendgrid": sendgrid_endpoint}


def routes(ws: Workspace, *, prefix: str = "/feedback", ssl_context: ssl.SSLContext | None = None,
           clock: Callable[[], float] = time.time) -> list[Route]:
    """The webhook routes (POST only), for ``newsletter serve`` to mount."""
    hooks = Hooks(ws, ssl_context=ssl_context, clock=clock)
    return [Route(f"{prefix}/{name}", _guarded(endpoint, hooks), methods=["POST"], name=f"feedback-{name}")
            for name, endpoint in ENDPOINTS.items()]


def feedback_app(ws: Workspace, **options: Any) -> Starlette:
    """The webhooks on their own (``uvicorn`` can serve this directly)."""
    return Starlette(routes=routes(ws, **options))

"""Amazon SES (API v2): each message goes out as ``sesv2.send_email`` with ``Content.Raw``, so the
composer's bytes (and their DKIM signature) arrive unchanged.

- Credentials come the standard AWS way (environment, ~/.aws, an instance or task role):
  boto3's own chain; nothing of them is in newsletter.yaml.
- Pace: at most ``MaxSendRate`` messages per second. The rate is ``ses.max_send_rate`` from
  the settings when set (a setting always wins), else the account's rate read once by
  ``get_account`` at open, else unpaced (SES then answers with throttling, handled below).
- Throttling and other retryable answers (``TooManyRequestsException``, ``Throttling``,
  5xx) are retried with exponential backoff for ``retry_for`` seconds; then the recipient
  is a temporary failure, which the campaign runner retries later.
- ``MessageRejected`` (and any other refusal that retrying cannot mend) fails that recipient
  for this campaign: ``Verdict.FAILED``, the message was refused, the address is not at
  fault. No answer of the API is a hard bounce: SES accepts mail to an address that does
  not work and reports it later as a bounce notification (``feedback``). A paused or
  suspended account, an unverified sending identity or an exhausted daily quota raise
  ``AdapterError``: the runner pauses the campaign with the message, and nothing is
  counted against the subscriber.
- SES's MessageId is returned in ``SendResult.message_id``; the journal keeps it so that SES's
  bounce and complaint notifications can be matched to the recipient.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from newsletter.core.config import Workspace
from newsletter.delivery.base import Adapter, AdapterError, ConnectionLost, SendResult
from newsletter.delivery.replies import Verdict

log = logging.getLogger(__name__)

RETRYABLE = {"Throttling", "ThrottlingException", "TooManyRequestsException", "ServiceUnavailable",
             "ServiceUnavailableException", "InternalFailure", "InternalServiceError", "RequestTimeout"}
# Errors about the account or the sending identity, not about one recipient: sending on would
# fail the same way for everyone, so the campaign pauses with the reason.
PAUSING = {
    "AccountSendingPausedException": "sending is paused for this SES account (look in the SES "
                                     "console under 'Account dashboard' for the reason)",
    "SendingPausedException": "sending is paused for this SES account or configuration set",
    "AccountSuspendedException": "this SES account is suspended; contact AWS support",
    "MailFromDomainNotVerifiedException": "the MAIL FROM domain is not verified in SES",
    "NotFoundException": "SES does not know a resource in this request (is ses.configuration_set right?)",
}


# How SES (and moto) word a MessageRejected about the sender's identity rather than the message.
IDENTITY_REFUSED = ("not verified", "did not have authority to send", "not authorized to send")


@dataclass(frozen=True)
class SesConfig:
    region: str | None = None
    configuration_set: str | None = None
    max_send_rate: float | None = None      # from settings: overrides the account's rate
    endpoint_url: str | None = None
    timeout: float = 30
    retry_for: float = 60                   # seconds of backoff for throttling, per message
    backoff: float = 0.5                    # first wait; doubles up to backoff_max
    backoff_max: float = 8


class Pacer:
    """At most ``rate`` calls per second over all threads: each caller takes the next slot
    and sleeps until it comes."""

    def __init__(self, rate: float | None, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.rate, self._clock, self._sleep = rate, clock, sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.rate:
            return
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + 1.0 / self.rate
        if slot > now:
            self._sleep(slot - now)


class SesAdapter(Adapter):
    name = "ses"
    max_parallel = 16   # HTTP calls; boto3 clients are thread-safe, the pacer sets the rate

    def __init__(self, config: SesConfig, session: Any = None):
        self.config = config
        self._session = session
        self._client: Any = None
        self._lock = threading.Lock()
        self.rate: float | None = None
        self.rate_source = "none"
        self.pacer = Pacer(None)

    def describe(self) -> str:
        where = self.config.endpoint_url or f"region {self.config.region or 'from the AWS configuration'}"
        rate = f", at most {self.rate:g} messages/s ({self.rate_source})" if self.rate else ""
        return f"Amazon SES ({where}{rate})"

    def open(self) -> None:
        with self._lock:
            if self._client is not None:
                return
            client = self._make_client()
            self.rate, self.rate_source = self._sending_rate(client)
            self.pacer = Pacer(self.rate)
            self._client = client

    def close(self) -> None:
        with self._lock:
            self._client = None

    def _make_client(self) -> Any:
        import boto3
        from botocore.config import Config

        session = self._session or boto3.session.Session()
        if session.get_credentials() is None:
            raise AdapterError("no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                               "or AWS_PROFILE with ~/.aws/credentials, or run with an IAM role")
        region = self.config.region or session.region_name
        if not region:
            raise AdapterError("no AWS region: set ses.region in newsletter.yaml (e.g. eu-central-1) or AWS_REGION")
        config = Config(connect_timeout=self.config.timeout, read_timeout=self.config.timeout,
                        retries={"total_max_attempts": 1}, max_pool_connections=self.max_parallel)
        return session.client("sesv2", region_name=region, endpoint_url=self.config.endpoint_url, config=config)

    def _sending_rate(self, client: Any) -> tuple[float | None, str]:
        """The settings' rate, else the account's MaxSendRate, else none. Reading the account
        also checks that the credentials work; a refusal there is a clear error now rather
        than a failure per message later."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            account = client.get_account()
        except ClientError as exc:
            code = _code(exc)
            if code in ("UnrecognizedClientException", "InvalidClientTokenId", "SignatureDoesNotMatch",
                        "AccessDeniedException", "AccessDenied", "ExpiredTokenException"):
                raise AdapterError(f"SES refused the AWS credentials ({code}): {_text(exc)}") from None
            log.info("SES get_account is not available here (%s); using the configured rate", code)
            account = {}
        except BotoCoreError as exc:
            raise AdapterError(f"cannot reach SES: {exc}") from None
        if account and account.get("SendingEnabled") is False:
            raise AdapterError(PAUSING["AccountSendingPausedException"])
        if self.config.max_send_rate:
            return self.config.max_send_rate, "ses.max_send_rate"
        rate = (account.get("SendQuota") or {}).get("MaxSendRate")
        return (float(rate), "the account's MaxSendRate") if rate else (None, "none")

    def send(self, message: bytes, envelope_from: str, recipients: Sequence[str]) -> list[SendResult]:
        if self._client is None:
            self.open()
        request: dict[str, Any] = {"FromEmailAddress": envelope_from,
                                   "Destination": {"ToAddresses": list(recipients)},
                                   "Content": {"Raw": {"Data": bytes(message)}}}
        if self.config.configuration_set:
            request["ConfigurationSetName"] = self.config.configuration_set
        outcome = self._send_with_backoff(request)
        if isinstance(outcome, SendResult):
            return [SendResult(r, outcome.verdict, outcome.reply, outcome.code) for r in recipients]
        reply = f"accepted by SES, MessageId {outcome}"
        return [SendResult(r, Verdict.DELIVERED, reply, 200, message_id=outcome) for r in recipients]

    def _send_with_backoff(self, request: dict[str, Any]) -> str | SendResult:
        """SES's MessageId, or a failed SendResult (recipient left blank)."""
        from botocore.exceptions import (ClientError, ConnectionClosedError, EndpointConnectionError,
                                         ReadTimeoutError)

        deadline, wait = time.monotonic() + self.config.retry_for, self.config.backoff
        while True:
            self.pacer.wait()
            try:
                return self._client.send_email(**request)["MessageId"]
            except ClientError as exc:
                code, text = _code(exc), _text(exc)
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
                if code == "MessageRejected" or code == "BadRequestException":
                    if any(words in text.lower() for words in IDENTITY_REFUSED):
                        raise AdapterError(f"SES refuses the sender: {text} (verify the domain or "
                                           "address under 'Verified identities' in the SES console)") from None
                    return SendResult("", Verdict.FAILED, f"SES {code}: {text}", status or 400)
                if code in PAUSING:
                    raise AdapterError(f"{PAUSING[code]} ({code}: {text})") from None
                if code == "LimitExceededException" or "daily message quota" in text.lower():
                    raise AdapterError(f"the SES sending quota for the last 24 hours is used up: {text}") from None
                if code not in RETRYABLE and status < 500:
                    return SendResult("", Verdict.FAILED, f"SES {code}: {text}", status)
                if time.monotonic() + wait > deadline:
                    return SendResult("", Verdict.TEMPORARY, f"SES {code} for {self.config.retry_for:g} s: {text}",
                                      status)
                log.info("SES %s; trying again in %.1f s", code, wait)
                time.sleep(wait)
                wait = min(wait * 2, self.config.backoff_max)
            except (ReadTimeoutError, ConnectionClosedError) as exc:
                raise ConnectionLost(f"no answer from SES: {exc}", uncertain=True) from None
            except EndpointConnectionError as exc:
                raise ConnectionLost(f"cannot reach SES: {exc}", uncertain=False) from None


def from_workspace(ws: Workspace, **options: Any) -> SesAdapter:
    """SES as the ``ses`` settings section says; ``options`` override (region, endpoint_url,
    max_send_rate, timeout, session)."""
    ses, delivery = ws.settings.ses, ws.settings.delivery
    config = SesConfig(region=options.get("region") or ses.region,
                       configuration_set=ses.configuration_set,
                       max_send_rate=options.get("max_send_rate") or ses.max_send_rate,
                       endpoint_url=options.get("endpoint_url") or ses.endpoint_url,
                       timeout=options.get("timeout") or delivery.timeout_seconds)
    return SesAdapter(config, session=options.get("session"))


def _code(exc: Any) -> str:
    return str(exc.response.get("Error", {}).get("Code", "") or "Unknown")


def _text(exc: Any) -> str:
    return str(exc.response.get("Error", {}).get("Message", "") or exc)

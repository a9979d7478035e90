"""SES notifications from an SQS queue: ``newsletter feedback fetch --sqs QUEUE_URL``.

For a sender without a public endpoint for webhooks: SES publishes bounce, complaint and
delivery-delay notifications to an SNS topic, an SQS queue subscribed to that topic keeps them,
and this reads the queue. Each SQS message's body is SNS's envelope (``Type: Notification``,
the SES notification as a JSON string in ``Message``) or, with SNS's raw message delivery, the
SES notification itself. Both become events through the same ``webhooks.ses_events`` as the
HTTP endpoint, and are recorded and applied like every other event (idempotent: a message
read twice is recorded once).

The queue's access is the proof of origin (IAM decides who may write to it), so SNS's
signature is not checked here. A message is deleted from the queue only after its events are
recorded; one that is not a SES notification stays, for the queue's dead-letter policy and a
person. The SES MessageId finds the campaign and subscriber in the send journal when the
return path does not (SES replaces our envelope sender with its own).
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from typing import Any, Callable
from urllib.parse import urlsplit

from newsletter.campaign.journal import Journal
from newsletter.core.config import Workspace
from newsletter.core.errors import ConfigError
from newsletter.feedback.apply import Policy, Recorded, record
from newsletter.feedback.events import Event, EventStore
from newsletter.feedback.webhooks import Hooks, ses_events
from newsletter.subscribers.store import Store

log = logging.getLogger(__name__)
BATCH = 10          # SQS's most per ReceiveMessage
VISIBILITY = 120    # seconds a received message stays hidden from other readers


@dataclass
class SqsSummary:
    messages: int = 0
    events: int = 0
    recorded: list[Recorded] = field(default_factory=list)
    seen_before: int = 0
    not_understood: list[str] = field(default_factory=list)


def notification_of(body: str) -> dict[str, Any] | None:
    """The SES notification in an SQS message body (SNS envelope or raw delivery), or None."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if isinstance(data, dict) and data.get("Type") == "Notification" and isinstance(data.get("Message"), str):
        try:
            data = json.loads(data["Message"])
        except ValueError:
            return None
    if isinstance(data, dict) and (data.get("notificationType") or data.get("eventType")) and "mail" in data:
        return data
    return None


def sqs_client(ws: Workspace, queue_url: str) -> Any:
    """A client for the queue's region; a queue URL that is not AWS's (a local test server, a
    VPC endpoint) is also the endpoint."""
    import boto3

    parts = urlsplit(queue_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path.count("/") < 2:
        raise ConfigError(f"--sqs: expected a queue URL like https://sqs.eu-central-1.amazonaws.com/"
                          f"123456789012/ses-notifications, got {queue_url!r}")
    host = parts.hostname or ""
    region, endpoint = ws.settings.ses.region, None
    if host.endswith(".amazonaws.com"):
        labels = host.split(".")
        region = labels[1] if labels[0] == "sqs" and len(labels) > 3 else region
    else:
        endpoint = f"{parts.scheme}://{parts.netloc}"
    session = boto3.session.Session()
    if session.get_credentials() is None:
        raise ConfigError("no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                          "or AWS_PROFILE, or run with an IAM role")
    return session.client("sqs", region_name=region or session.region_name or "us-east-1", endpoint_url=endpoint)


def fetch_sqs(ws: Workspace, queue_url: str, *, dry_run: bool = False, client: Any = None,
              wait_seconds: int = 1, limit: int = 100_000,
              progress: Callable[[int], None] | None = None) -> SqsSummary:
    """Read the queue until it is empty (or ``limit`` messages), record and apply the events,
    delete what was recorded. ``dry_run``: classify only; every message is put back."""
    from botocore.exceptions import BotoCoreError, ClientError

    client = client or sqs_client(ws, queue_url)
    summary, hooks, put_back = SqsSummary(), Hooks(ws), []
    journal = Journal(ws.db_path)
    try:
        with Store.open(ws) as store, EventStore(ws.db_path) as stored:
            policy = Policy.from_settings(ws.settings)
            while summary.messages < limit:
                try:
                    batch = client.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=BATCH,
                                                   WaitTimeSeconds=wait_seconds,
                                                   VisibilityTimeout=VISIBILITY).get("Messages", [])
                except (ClientError, BotoCoreError) as exc:
                    raise ConfigError(f"cannot read the SQS queue {queue_url}: {exc}") from None
                if not batch:
                    break
                for message in batch:
                    summary.messages += 1
                    handle = message["ReceiptHandle"]
                    notification = notification_of(message.get("Body", ""))
                    if notification is None:
                        summary.not_understood.append(f"{message.get('MessageId')}: {message.get('Body', '')[:120]}")
                        put_back.append(handle)
                        continue
                    events = [_with_journal(journal, e, notification) for e in ses_events(hooks, notification)]
                    summary.events += len(events)
                    if dry_run:
                        put_back.append(handle)
                        continue
                    for event in events:
                        done = record(stored, store, event, policy)
                        if done.new:
                            summary.recorded.append(done)
                        else:
                            summary.seen_before += 1
                    client.delete_message(QueueUrl=queue_url, ReceiptHandle=handle)
                if progress:
                    progress(summary.messages)
    finally:
        journal.close()
        for handle in put_back:   # visible again at once, for the next reader or a person
            try:
                client.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=handle, VisibilityTimeout=0)
            except Exception:  # noqa: BLE001 - it becomes visible by itself after VISIBILITY
                log.debug("could not put back an SQS message", exc_info=True)
    return summary


def _with_journal(journal: Journal, event: Event, notification: dict[str, Any]) -> Event:
    """The event with campaign and subscriber from the send journal, by SES's MessageId,
    where the return path did not name them."""
    if event.campaign is not None and event.subscriber is not None:
        return event
    message_id = str((notification.get("mail") or {}).get("messageId", ""))
    found = journal.by_provider_message_id(message_id) if message_id else None
    if found is None:
        return event
    campaign, subscriber, _ = found
    try:
        sid = int(subscriber)
    except ValueError:
        sid = event.subscriber
    return replace(event, campaign=event.campaign if event.campaign is not None else campaign,
                   subscriber=event.subscriber if event.subscriber is not None else sid)

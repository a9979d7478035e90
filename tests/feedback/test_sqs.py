"""`newsletter feedback fetch --sqs QUEUE_URL` against an SQS queue in moto's server mode on
127.0.0.1: SES notifications shaped like the examples in AWS's documentation ("Amazon SNS
notification examples for Amazon SES"), in SNS's envelope and as raw message delivery."""
from __future__ import annotations

import json

import boto3
import pytest
from click.testing import CliRunner

from newsletter.campaign.journal import SENT, Journal
from newsletter.cli import main
from newsletter.feedback.events import COMPLAINT, HARD_BOUNCE, SOFT_BOUNCE
from newsletter.feedback.sqs import notification_of
from tests.support.aws import REGION

SES_MESSAGE_ID = "00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000"


def mail(fb, name: str, message_id: str = SES_MESSAGE_ID) -> dict:
    """The "mail" object of a SES notification, as in AWS's examples."""
    return {"timestamp": "2026-11-03T09:00:01.237Z", "source": "news@mcin.example.org",
            "sourceArn": "arn:aws:ses:eu-central-1:123456789012:identity/mcin.example.org",
            "sourceIp": "127.0.3.0", "sendingAccountId": "123456789012", "callerIdentity": "newsletter",
            "messageId": message_id, "destination": [fb.email(name)], "headersTruncated": False,
            "headers": [{"name": "From", "value": "Mother Centres International Network <news@mcin.example.org>"},
                        {"name": "To", "value": fb.email(name)},
                        {"name": "Subject", "value": "November news"}],
            "commonHeaders": {"from": ["news@mcin.example.org"], "to": [fb.email(name)], "subject": "November news"}}


def bounce(fb, name: str, kind: str = "Permanent", status: str = "5.1.1", message_id: str = SES_MESSAGE_ID) -> dict:
    return {"notificationType": "Bounce",
            "bounce": {"bounceType": kind, "bounceSubType": "General", "reportingMTA": "dns; email.example.com",
                       "bouncedRecipients": [{"emailAddress": fb.email(name), "status": status, "action": "failed",
                                              "diagnosticCode": f"smtp; 550 {status} <{fb.email(name)}>... User"}],
                       "timestamp": "2026-11-03T09:00:02.237Z",
                       "feedbackId": f"00000138111222aa-{name}-000000", "remoteMtaIp": "127.0.2.0"},
            "mail": mail(fb, name, message_id)}


def complaint(fb, name: str) -> dict:
    return {"notificationType": "Complaint",
            "complaint": {"userAgent": "AnyCompany Feedback Loop (V0.01)",
                          "complainedRecipients": [{"emailAddress": fb.email(name)}],
                          "complaintFeedbackType": "abuse", "arrivalDate": "2026-11-03T10:00:00.000Z",
                          "timestamp": "2026-11-03T10:00:01.000Z", "feedbackId": f"000001378603177f-{name}-000000"},
            "mail": mail(fb, name, "0000014644fe5ef6-complaint")}


def delivery(fb, name: str) -> dict:
    return {"notificationType": "Delivery",
            "delivery": {"timestamp": "2026-11-03T09:00:03.000Z", "processingTimeMillis": 546,
                         "recipients": [fb.email(name)], "smtpResponse": "250 ok", "reportingMTA": "a8-70.smtp-out.amazonses.com"},
            "mail": mail(fb, name, "0000014a4b-delivery")}


def sns(notification: dict) -> str:
    """SNS's envelope around a notification, as SNS delivers it to an SQS queue."""
    return json.dumps({"Type": "Notification", "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
                       "TopicArn": "arn:aws:sns:eu-central-1:123456789012:ses-feedback",
                       "Message": json.dumps(notification), "Timestamp": "2026-11-03T09:00:04.655Z",
                       "SignatureVersion": "1", "Signature": "EXAMPLEw6JRN...",
                       "SigningCertURL": "https://sns.eu-central-1.amazonaws.com/SimpleNotificationService-x.pem",
                       "UnsubscribeURL": "https://sns.eu-central-1.amazonaws.com/?Action=Unsubscribe"})


@pytest.fixture
def queue(moto_server, aws_env):
    client = boto3.client("sqs", endpoint_url=moto_server, region_name=REGION)
    url = client.create_queue(QueueName=f"ses-feedback-{id(client)}")["QueueUrl"]
    yield client, url
    client.delete_queue(QueueUrl=url)


def remaining(client, url: str) -> int:
    attrs = client.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                                                      "ApproximateNumberOfMessagesNotVisible"])
    return sum(int(v) for v in attrs["Attributes"].values())


def fetch(fb, url: str, *args: str):
    return CliRunner().invoke(main, ["-C", str(fb.root), "feedback", "fetch", "--sqs", url, *args])


def test_notifications_become_events_and_leave_the_queue(fb, queue):
    client, url = queue
    # ann's message went out through SES: the journal knows its MessageId and campaign.
    journal = Journal(fb.ws.db_path)
    campaign = journal.create_campaign("2026-11", "all", "ses")
    journal.enqueue(campaign.id, [(str(fb.sid("ann")), fb.email("ann"), "en")])
    journal.record(campaign.id, str(fb.sid("ann")), SENT, "accepted by SES", SES_MESSAGE_ID)
    journal.close()
    for body in (sns(bounce(fb, "ann")), sns(bounce(fb, "full1", "Transient", "4.2.2", "0000-other")),
                 sns(complaint(fb, "eva")), sns(delivery(fb, "ben")), json.dumps(bounce(fb, "gone1", message_id="raw-1")),
                 "not a notification"):
        client.send_message(QueueUrl=url, MessageBody=body)

    result = fetch(fb, url)
    assert result.exit_code == 0, result.output
    assert "6 message(s)" in result.output and "4 event(s)" in result.output
    assert f"{HARD_BOUNCE:<19} {fb.email('ann')} campaign {campaign.id} 5.1.1" in result.output
    assert SOFT_BOUNCE in result.output and COMPLAINT in result.output
    assert "1 message(s) are not SES notifications" in result.output
    assert fb.status("ann") != "subscribed" and fb.status("gone1") != "subscribed"
    assert fb.status("eva") == "unsubscribed"
    assert fb.status("ben") == "subscribed" and fb.status("full1") == "subscribed"
    assert remaining(client, url) == 1          # only what was not understood stays

    again = fetch(fb, url)                       # the same notification again: recorded once
    client.send_message(QueueUrl=url, MessageBody=sns(bounce(fb, "ann")))
    third = fetch(fb, url)
    assert again.exit_code == third.exit_code == 0
    assert "1 recorded before" in third.output


def test_dry_run_changes_nothing_and_puts_messages_back(fb, queue):
    client, url = queue
    client.send_message(QueueUrl=url, MessageBody=sns(complaint(fb, "dana")))
    result = fetch(fb, url, "--dry-run")
    assert result.exit_code == 0 and "1 event(s)" in result.output and "Dry run" in result.output
    assert fb.status("dana") == "subscribed"
    assert remaining(client, url) == 1
    assert fetch(fb, url).exit_code == 0 and fb.status("dana") == "unsubscribed"


def test_a_queue_url_that_is_not_one_is_a_clear_error(fb, aws_env):
    result = fetch(fb, "sqs://nowhere")
    assert result.exit_code == 1 and "expected a queue URL" in result.output


def test_sns_envelope_and_raw_delivery_are_both_read(fb):
    raw = bounce(fb, "ann")
    assert notification_of(sns(raw)) == raw == notification_of(json.dumps(raw))
    assert notification_of(json.dumps({"Type": "Notification", "Message": "hello"})) is None
    assert notification_of("{}") is None and notification_of("[1]") is None

"""The corpus: each kind of message read into exactly the event it reports, and applied."""
from __future__ import annotations

import pytest

from newsletter.feedback import reports
from newsletter.feedback.apply import Policy, record
from newsletter.feedback.events import (COMPLAINT, DELAY, HARD_BOUNCE, SOFT_BOUNCE, UNSUBSCRIBE, EventStore)
from newsletter.feedback.mailbox import reading_context
from newsletter.core import tokens
from newsletter.subscribers.store import Store
from tests.feedback import corpus
from tests.feedback.conftest import BOUNCE_DOMAIN, FeedbackWorkspace

INBOX = "feedback@mcin.example.org"


def read(fb: FeedbackWorkspace, raw: bytes) -> reports.Reading:
    with Store.open(fb.ws) as store:
        return reports.read(raw, reading_context(fb.ws, store))


def only_event(reading: reports.Reading):
    assert len(reading.events) == 1, reading
    return reading.events[0]


def test_dsn_to_the_verp_address_names_subscriber_and_campaign(fb: FeedbackWorkspace) -> None:
    raw = corpus.dsn(fb.return_path("gone1", campaign=7), "gone1@example.org", original=fb.original("gone1", 7))
    reading = read(fb, raw)
    event = only_event(reading)
    assert reading.verdict == reports.BOUNCE
    assert (event.kind, event.subscriber, event.campaign) == (HARD_BOUNCE, fb.sid("gone1"), 7)
    assert (event.email, event.status) == ("gone1@example.org", "5.1.1")
    assert event.diagnostic.startswith("550 5.1.1 <gone1@example.org>")


def test_verp_survives_an_mta_that_upper_cases_the_local_part(fb: FeedbackWorkspace) -> None:
    shouting = fb.return_path("gone1", 3).upper()
    event = only_event(read(fb, corpus.dsn(shouting, "someone-else@forward.example", original=None)))
    assert (event.kind, event.subscriber, event.campaign) == (HARD_BOUNCE, fb.sid("gone1"), 3)


def test_a_forged_verp_code_names_nobody(fb: FeedbackWorkspace) -> None:
    real = fb.return_path("ann", 3)
    local, _, domain = real.partition("@")
    forged = f"{local[:-4]}0000@{domain}" if not local.endswith("0000") else f"{local[:-4]}1111@{domain}"
    event = only_event(read(fb, corpus.dsn(forged, "nobody@elsewhere.example")))
    assert event.subscriber is None and event.campaign is None


def test_dsn_with_only_the_original_headers_finds_the_subscriber_by_unsubscribe_token(fb: FeedbackWorkspace) -> None:
    # A DSN to a plain return path, naming an address the list does not know (a forwarder),
    # quoting only the original headers: the List-Unsubscribe token still names the person.
    raw = corpus.dsn("news@mcin.example.org", "old-forward@elsewhere.example",
                     original=fb.original("ben"), headers_only=True)
    event = only_event(read(fb, raw))
    assert (event.kind, event.subscriber, event.campaign) == (HARD_BOUNCE, fb.sid("ben"), None)


def test_dsn_without_original_and_without_verp_falls_back_to_the_address(fb: FeedbackWorkspace) -> None:
    event = only_event(read(fb, corpus.dsn("news@mcin.example.org", "cem@example.org")))
    assert (event.kind, event.subscriber) == (HARD_BOUNCE, fb.sid("cem"))


@pytest.mark.parametrize("status, diagnostic, kind", [
    ("4.2.2", "smtp; 452 4.2.2 mailbox full", SOFT_BOUNCE),        # 4.x.x is never hard, even as "failed"
    ("5.7.1", "smtp; 550 5.7.1 message refused as spam", SOFT_BOUNCE),   # the message, not the address
    ("5.2.2", "smtp; 552 5.2.2 over quota", SOFT_BOUNCE),
    ("5.1.10", "smtp; 550 5.1.10 null MX", HARD_BOUNCE),
    (None, "smtp; 550 user unknown", HARD_BOUNCE),                   # no Status: the reply decides
    (None, "smtp; 554 transaction failed", SOFT_BOUNCE),
])
def test_failed_dsn_is_classified_by_its_enhanced_status(fb, status, diagnostic, kind) -> None:
    raw = corpus.dsn(fb.return_path("dana"), "dana@example.org", status=status, diagnostic=diagnostic)
    assert only_event(read(fb, raw)).kind == kind


def test_delayed_dsn_is_a_delay(fb: FeedbackWorkspace) -> None:
    raw = corpus.dsn(fb.return_path("full1", 2), "full1@example.org", action="delayed", status="4.2.2",
                     diagnostic="smtp; 452 4.2.2 Mailbox full")
    reading = read(fb, raw)
    event = only_event(reading)
    assert reading.verdict == reports.DELAYED
    assert (event.kind, event.subscriber, event.campaign, event.status) == (DELAY, fb.sid("full1"), 2, "4.2.2")


def test_success_dsn_reports_nothing(fb: FeedbackWorkspace) -> None:
    reading = read(fb, corpus.dsn(fb.return_path("ann"), "ann@example.org", action="delivered", status="2.0.0",
                                  diagnostic=None))
    assert reading.verdict == reports.DELIVERED and reading.events == []


def test_abuse_report_is_a_complaint_about_the_person(fb: FeedbackWorkspace) -> None:
    raw = arf = corpus.arf("fbl@mcin.example.org", original=fb.original("eva", 5),
                           mail_from=fb.return_path("eva", 5), rcpt="eva@example.org")
    reading = read(fb, raw)
    event = only_event(reading)
    assert reading.verdict == reports.ABUSE
    assert (event.kind, event.subscriber, event.campaign, event.email) == (COMPLAINT, fb.sid("eva"), 5, "eva@example.org")
    assert arf   # the same bytes are used below


def test_abuse_report_with_redacted_recipient_uses_the_unsubscribe_token(fb: FeedbackWorkspace) -> None:
    # Providers often redact the recipient; the original's List-Unsubscribe remains.
    raw = corpus.arf("fbl@mcin.example.org", original=fb.original("finn"), headers_only=True)
    event = only_event(read(fb, raw))
    assert (event.kind, event.subscriber) == (COMPLAINT, fb.sid("finn"))


def test_not_spam_report_is_no_complaint(fb: FeedbackWorkspace) -> None:
    reading = read(fb, corpus.arf("fbl@mcin.example.org", original=fb.original("finn"), feedback_type="not-spam"))
    assert reading.events == [] and reading.understood


def test_mailto_unsubscribe_with_token_in_subject(fb: FeedbackWorkspace) -> None:
    token = tokens.make_token(fb.ws.secrets.secret_key, fb.sid("ann"), fb.ws.settings.list_id)
    raw = corpus.mailto_unsubscribe("Someone <forwarded@elsewhere.example>", "unsubscribe@mcin.example.org",
                                    f"unsubscribe {token}")
    reading = read(fb, raw)
    event = only_event(reading)
    assert reading.verdict == reports.UNSUBSCRIBE_REQUEST
    assert (event.kind, event.subscriber, event.detail["identified_by"]) == (UNSUBSCRIBE, fb.sid("ann"), "token")


def test_mailto_unsubscribe_with_token_in_the_address(fb: FeedbackWorkspace) -> None:
    token = tokens.make_token(fb.ws.secrets.secret_key, fb.sid("ben"), fb.ws.settings.list_id)
    raw = corpus.mailto_unsubscribe("x@elsewhere.example", f"unsubscribe+{token}@mcin.example.org", "Unsubscribe")
    assert only_event(read(fb, raw)).subscriber == fb.sid("ben")


def test_mailto_unsubscribe_without_token_uses_the_sender(fb: FeedbackWorkspace) -> None:
    raw = corpus.mailto_unsubscribe("Cem <CEM@example.org>", "unsubscribe@mcin.example.org", "please remove me")
    event = only_event(read(fb, raw))
    assert (event.subscriber, event.detail["identified_by"]) == (fb.sid("cem"), "sender address")


def test_mailto_unsubscribe_with_a_forged_token_and_unknown_sender_is_not_understood(fb: FeedbackWorkspace) -> None:
    token = tokens.make_token(b"another key", fb.sid("ben"), fb.ws.settings.list_id)
    raw = corpus.mailto_unsubscribe("x@elsewhere.example", "unsubscribe@mcin.example.org", f"unsubscribe {token}")
    reading = read(fb, raw)
    assert reading.verdict == reports.UNKNOWN and reading.events == []


@pytest.mark.parametrize("auto_submitted", [True, False])
def test_vacation_reply_is_ignored(fb: FeedbackWorkspace, auto_submitted: bool) -> None:
    reading = read(fb, corpus.vacation("dana@example.org", INBOX, auto_submitted=auto_submitted))
    assert reading.verdict == reports.AUTO_REPLY and reading.events == []


def test_qmail_bounce_is_read_by_the_fallback_detector(fb: FeedbackWorkspace) -> None:
    reading = read(fb, corpus.qmail_bounce(fb.return_path("gone2", 4), "gone2@example.org"))
    event = only_event(reading)
    assert reading.verdict == reports.BOUNCE
    assert (event.kind, event.subscriber, event.campaign, event.email) == (HARD_BOUNCE, fb.sid("gone2"), 4, "gone2@example.org")
    assert event.detail == {"detector": "flufl.bounce"}


@pytest.mark.parametrize("raw", [
    b"", b"\x00\xff garbage \r\n\r\n\r\n", b"Subject: =?utf-8?q?broken\r\n\r\nhello",
    b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x\r\n",
])
def test_garbage_is_unknown_never_an_error(fb: FeedbackWorkspace, raw: bytes) -> None:
    reading = read(fb, raw)
    assert reading.verdict == reports.UNKNOWN and reading.events == []


def test_a_plain_letter_is_unknown(fb: FeedbackWorkspace) -> None:
    reading = read(fb, corpus.garbage(INBOX))
    assert reading.verdict == reports.UNKNOWN and "opening times" not in reading.summary


def test_events_apply_once_hard_cleans_soft_scores_complaint_unsubscribes(fb: FeedbackWorkspace) -> None:
    ws = fb.ws
    messages = [
        corpus.dsn(fb.return_path("gone1"), "gone1@example.org"),
        corpus.dsn(fb.return_path("full1"), "full1@example.org", status="4.2.2", diagnostic="smtp; 452 4.2.2 full"),
        corpus.arf("fbl@x.example", original=fb.original("eva"), mail_from=fb.return_path("eva")),
    ]
    policy = Policy(bounce_limit=1, soft_bounce_limit=3)
    with Store.open(ws) as store, EventStore(ws.db_path) as events:
        ctx = reading_context(ws, store)
        for _ in range(2):   # reading everything twice changes nothing the second time
            for raw in messages:
                for event in reports.read(raw, ctx).events:
                    record(events, store, event, policy)
        assert len(events.all()) == 3
        assert events.score(fb.sid("full1")) == 1
    assert (fb.status("gone1"), fb.status("full1"), fb.status("eva")) == ("cleaned", "subscribed", "unsubscribed")
    assert fb.subscriber("gone1").bounces == 1


def test_soft_bounces_count_as_a_hard_one_at_the_limit_and_decay_after_quiet(fb: FeedbackWorkspace) -> None:
    from datetime import datetime, timedelta, timezone

    now = [datetime(2026, 11, 1, tzinfo=timezone.utc)]
    policy = Policy(bounce_limit=1, soft_bounce_limit=3, soft_bounce_quiet_days=7)
    ws = fb.ws
    with Store.open(ws) as store, EventStore(ws.db_path, clock=lambda: now[0]) as events:
        ctx = reading_context(ws, store)

        def soft(campaign: int) -> str:
            raw = corpus.dsn(fb.return_path("full2", campaign), "full2@example.org", status="4.2.2",
                             diagnostic="smtp; 452 4.2.2 full")
            return record(events, store, only_event(reports.read(raw, ctx)), policy).outcome

        assert soft(1) == "soft bounce score 1 of 3"
        now[0] += timedelta(days=8)          # a quiet period: the score starts again
        assert soft(2) == "soft bounce score 1 of 3"
        now[0] += timedelta(days=1)
        assert soft(3) == "soft bounce score 2 of 3"
        assert fb.status("full2") == "subscribed"
        now[0] += timedelta(days=1)
        assert "cleaned" in soft(4)
    assert fb.status("full2") == "cleaned"


def test_composer_gives_each_recipient_a_verp_envelope_sender(fb: FeedbackWorkspace) -> None:
    from newsletter.compose.composer import Composer, Recipient
    from newsletter.core import verp
    from tests.support.delivery import small_variant

    ws = fb.ws
    composer = Composer(small_variant(), ws.settings, ws.secrets.secret_key, campaign="12", clock=lambda: None)
    sender = composer.envelope_from(Recipient(fb.sid("ann"), "ann@example.org", variant="en"))
    assert sender.endswith("@" + BOUNCE_DOMAIN)
    assert verp.parse(ws.secrets.secret_key, sender, BOUNCE_DOMAIN) == verp.ReturnPath(fb.sid("ann"), 12)
    test_send = Composer(small_variant(), ws.settings, ws.secrets.secret_key, campaign="test", clock=lambda: None)
    assert test_send.envelope_from(Recipient("test:x@y.z", "x@y.z", variant="en")) is None


def test_campaign_and_subscriber_reports_show_feedback(fb: FeedbackWorkspace) -> None:
    from click.testing import CliRunner

    from newsletter.campaign.journal import SENT, Journal
    from newsletter.cli import main

    ws = fb.ws
    journal = Journal(ws.db_path)
    campaign = journal.campaign_for("2026-11", "all", "outbox")
    names = ["ann", "ben", "cem", "dana", "eva", "finn", "gone1", "full1"]
    journal.enqueue(campaign.id, [(str(fb.sid(n)), fb.email(n), "en") for n in names])
    for n in names:
        journal.record(campaign.id, str(fb.sid(n)), SENT, "250 ok")
    journal.close()
    messages = [corpus.dsn(fb.return_path("gone1", campaign.id), "gone1@example.org"),
                corpus.dsn(fb.return_path("full1", campaign.id), "full1@example.org", status="4.2.2",
                           diagnostic="smtp; 452 4.2.2 full"),
                corpus.arf("fbl@x.example", original=fb.original("eva", campaign.id),
                           mail_from=fb.return_path("eva", campaign.id))]
    with Store.open(ws) as store, EventStore(ws.db_path) as events:
        ctx = reading_context(ws, store)
        for raw in messages:
            for event in reports.read(raw, ctx).events:
                record(events, store, event, Policy())
    shown = CliRunner().invoke(main, ["-C", str(fb.root), "campaigns", "show", str(campaign.id)])
    assert shown.exit_code == 0, shown.output
    assert "hard bounces          1" in shown.output and "soft bounces          1" in shown.output
    assert "complaints            1" in shown.output
    assert "complaint rate        12.50% of 8 sent (ABOVE the 0.3 % limit" in shown.output
    person = CliRunner().invoke(main, ["-C", str(fb.root), "subscribers", "show", "gone1@example.org"])
    assert person.exit_code == 0, person.output
    assert f"hard-bounce 5.1.1 campaign {campaign.id} via mailbox: hard bounce 5.1.1: cleaned (1 of 1)" in person.output
    assert "550 5.1.1 <gone1@example.org>" in person.output
    quiet = CliRunner().invoke(main, ["-C", str(fb.root), "subscribers", "show", "ann@example.org"])
    assert "feedback:   -" in quiet.output

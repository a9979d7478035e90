"""The campaign runner with real adapters: the outbox, and SMTP against aiosmtpd servers that
greylist, reject and drop connections. Backoffs are milliseconds here (RunOptions)."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.support.delivery import composer_for, make_recipients, sample_settings, small_variant
from newsletter.compose.composer import Recipient
from newsletter.core.config import Delivery
from newsletter.campaign.journal import CampaignLocked, CampaignStatus, Journal, LeaseOwner
from newsletter.delivery.states import RecipientState as State

FAILED_PERMANENT, FAILED_TEMPORARY, PENDING, SENT, SKIPPED = (
    State.FAILED_PERMANENT, State.FAILED_TEMPORARY, State.PENDING, State.SENT, State.SKIPPED)
FINISHED, PAUSED = CampaignStatus.FINISHED, CampaignStatus.PAUSED
from newsletter.delivery.base import AdapterError
from newsletter.delivery.outbox import OutboxAdapter
from newsletter.campaign.runner import CampaignRunner, RateLimiter, RunOptions
from newsletter.delivery.smtp import SmtpAdapter, parse_smtp_url
from newsletter.core.errors import DeliveryError

FAST = RunOptions(connections=3, retry_for_seconds=5, first_backoff_seconds=0.01, max_backoff_seconds=0.05,
                  max_consecutive_failures=20)


@pytest.fixture(scope="module")
def settings():
    return sample_settings()


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "newsletter.sqlite3")


def runner_for(journal, adapter, settings, options=FAST, **kw) -> CampaignRunner:
    composers = {"en": composer_for(settings), "de": composer_for(settings, small_variant("de"))}
    return CampaignRunner(journal, adapter, composers, envelope_from="bounces@mcin.example.org",
                          options=options, **kw)


def smtp_adapter(server, connections=3, password=None) -> SmtpAdapter:
    return SmtpAdapter(parse_smtp_url(f"smtp://127.0.0.1:{server.port}", timeout=5), connections=connections)


def statuses(journal, campaign_id) -> dict[str, str]:
    return {r.subscriber: r.status for r in journal.rows(campaign_id)}


# -- the outbox ------------------------------------------------------------------------------------

def test_outbox_campaign_writes_one_file_each_and_a_rerun_writes_none(journal, settings, tmp_path):
    people = make_recipients(12) + make_recipients(3, variant="de", start=100)
    campaign = journal.create_campaign("2026-11", "all", "outbox")
    seen = []
    with OutboxAdapter(tmp_path / "outbox") as adapter:
        summary = runner_for(journal, adapter, settings, progress=seen.append).run(campaign.id, people)
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 15 and summary.sent == 15 and summary.all_delivered
    assert journal.campaign(campaign.id).status == FINISHED
    assert set(statuses(journal, campaign.id).values()) == {SENT}
    assert seen[-1].done == seen[-1].total == 15 and [p.done for p in seen] == sorted(p.done for p in seen)
    assert sum(b"Subject: November news" in f.read_bytes() for f in files) == 15

    with OutboxAdapter(tmp_path / "outbox") as adapter:
        again = runner_for(journal, adapter, settings).run(campaign.id, people)
    assert again.to_send == 0 and again.sent == 0 and again.all_delivered
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 15


def test_missing_variant_is_refused_before_anything_is_sent(journal, settings, tmp_path):
    campaign = journal.create_campaign("2026-11", "all", "outbox")
    with pytest.raises(DeliveryError, match="no rendered variant for 'fr'"):
        runner_for(journal, OutboxAdapter(tmp_path), settings).run(campaign.id, make_recipients(2, variant="fr"))
    assert journal.rows(campaign.id) == []


def test_bad_address_fails_that_recipient_only_and_is_no_bounce(journal, settings, tmp_path):
    bounced = []
    people = make_recipients(3) + [Recipient(50, "not an address", "X", {}, "en")]
    campaign = journal.create_campaign("2026-11", "all", "outbox")
    summary = runner_for(journal, OutboxAdapter(tmp_path), settings, on_hard_bounce=bounced.append).run(campaign.id, people)
    assert (summary.sent, summary.failed_permanent, bounced) == (3, 1, [])
    assert "subscriber 50" in summary.failures[0].reply
    assert summary.finished and not summary.all_delivered


def test_one_address_on_two_subscribers_gets_one_message(journal, settings, tmp_path):
    people = [Recipient(1, "same@example.org", "A", {}, "en"), Recipient(2, "Same@example.org", "B", {}, "en")]
    campaign = journal.create_campaign("2026-11", "all", "outbox")
    summary = runner_for(journal, OutboxAdapter(tmp_path), settings).run(campaign.id, people)
    assert (summary.sent, summary.skipped) == (1, 1)
    assert statuses(journal, campaign.id) == {"1": SENT, "2": SKIPPED}


def test_unsubscribed_after_the_start_are_skipped(journal, settings, tmp_path):
    gone = {3, 5}
    campaign = journal.create_campaign("2026-11", "all", "outbox")
    summary = runner_for(journal, OutboxAdapter(tmp_path), settings,
                         still_subscribed=lambda sid: sid not in gone).run(campaign.id, make_recipients(6))
    assert (summary.sent, summary.skipped) == (4, 2)
    assert {s for s, st in statuses(journal, campaign.id).items() if st == SKIPPED} == {"3", "5"}
    assert len(list(tmp_path.glob("*.eml"))) == 4


def test_people_who_left_the_segment_before_a_resume_are_skipped(journal, settings, tmp_path):
    campaign = journal.create_campaign("2026-11", "all", "outbox")
    journal.enqueue(campaign.id, [("1", "reader1@example.org", "en"), ("2", "reader2@example.org", "en")])
    summary = runner_for(journal, OutboxAdapter(tmp_path), settings).run(campaign.id, make_recipients(1))
    assert statuses(journal, campaign.id) == {"1": SENT, "2": SKIPPED}
    assert summary.all_delivered


def test_a_locked_campaign_is_refused(journal, settings, tmp_path):
    campaign = journal.create_campaign("2026-11", "all", "outbox")
    journal.acquire(campaign.id, LeaseOwner("elsewhere.example", 1, "1", "x"), 60)
    with pytest.raises(CampaignLocked) as err:
        runner_for(journal, OutboxAdapter(tmp_path), settings).run(campaign.id, make_recipients(2))
    assert err.value.exit_code == 3
    assert journal.rows(campaign.id) == []


# -- SMTP ------------------------------------------------------------------------------------------

def test_greylisting_rejects_and_a_dropping_server(journal, settings, smtp_server):
    """451 for some (delivered on retry), 550 for others (permanent, reported as bounces), and
    a server that drops the connection every 7th transaction: every deliverable recipient
    gets exactly one message."""
    people = make_recipients(40)
    handler = smtp_server.handler
    handler.temporary = {f"reader{i}@example.org": 2 for i in (2, 9, 17, 33)}
    handler.permanent = {f"reader{i}@example.org" for i in (4, 21)}
    handler.drop_every = 7
    bounced = []
    campaign = journal.create_campaign("2026-11", "all", "smtp")
    adapter = smtp_adapter(smtp_server)
    with adapter:
        summary = runner_for(journal, adapter, settings, on_hard_bounce=bounced.append).run(campaign.id, people)
    deliverable = {r.email for r in people} - handler.permanent
    assert handler.per_address() == dict.fromkeys(deliverable, 1)
    assert sorted(bounced) == [4, 21]
    assert (summary.sent, summary.failed_permanent, summary.failed_temporary) == (38, 2, 0)
    rows = {r.subscriber: r for r in journal.rows(campaign.id)}
    assert {s for s, r in rows.items() if r.status == FAILED_PERMANENT} == {"4", "21"}
    assert rows["9"].status == SENT and rows["9"].attempts == 3
    assert rows["4"].reply == "550 5.1.1 <reader4@example.org>: user unknown"
    assert adapter.connections_opened > 3
    assert summary.finished and not summary.all_delivered and journal.campaign(campaign.id).status == FINISHED


def test_consecutive_failures_pause_and_a_rerun_resumes(journal, settings, smtp_server):
    smtp_server.handler.always_temporary = True
    people = make_recipients(12)
    options = replace(FAST, connections=2, max_consecutive_failures=6, retry_for_seconds=60)
    campaign = journal.create_campaign("2026-11", "all", "smtp")
    with smtp_adapter(smtp_server, 2) as adapter:
        summary = runner_for(journal, adapter, settings, options).run(campaign.id, people)
    assert summary.paused and "6 failures in a row, the last: 451 4.3.0 try again later" in summary.paused
    assert "run the same send again to resume" in summary.paused
    assert journal.campaign(campaign.id).status == PAUSED
    assert summary.sent == 0 and not smtp_server.handler.messages
    assert set(statuses(journal, campaign.id).values()) <= {PENDING, FAILED_TEMPORARY}

    smtp_server.handler.always_temporary = False
    with smtp_adapter(smtp_server, 2) as adapter:
        resumed = runner_for(journal, adapter, settings, options).run(campaign.id, people)
    assert resumed.all_delivered and resumed.paused is None
    assert smtp_server.handler.per_address() == {r.email: 1 for r in people}


def test_retry_time_runs_out_and_a_rerun_tries_again(journal, settings, smtp_server):
    smtp_server.handler.temporary = {"reader2@example.org": 1000}
    options = replace(FAST, retry_for_seconds=0.1)
    campaign = journal.create_campaign("2026-11", "all", "smtp")
    with smtp_adapter(smtp_server) as adapter:
        summary = runner_for(journal, adapter, settings, options).run(campaign.id, make_recipients(3))
    assert (summary.sent, summary.failed_temporary) == (2, 1)
    assert statuses(journal, campaign.id)["2"] == FAILED_TEMPORARY
    assert not summary.finished and journal.campaign(campaign.id).status == "open"

    smtp_server.handler.temporary = {}
    with smtp_adapter(smtp_server) as adapter:
        again = runner_for(journal, adapter, settings, options).run(campaign.id, make_recipients(3))
    assert again.to_send == 1 and again.all_delivered
    assert smtp_server.handler.per_address() == {f"reader{i}@example.org": 1 for i in (1, 2, 3)}


def test_lost_answer_leaves_the_recipient_unknown_and_unsent(journal, settings, smtp_server):
    smtp_server.handler.drop_after_data = {"reader3@example.org"}
    people = make_recipients(5)
    campaign = journal.create_campaign("2026-11", "all", "smtp")
    with smtp_adapter(smtp_server) as adapter:
        summary = runner_for(journal, adapter, settings).run(campaign.id, people)
    assert [r.subscriber for r in summary.unknown] == ["3"] and summary.sent == 4
    assert not summary.finished

    with smtp_adapter(smtp_server) as adapter:
        again = runner_for(journal, adapter, settings).run(campaign.id, people)
    assert again.to_send == 0 and [r.subscriber for r in again.unknown] == ["3"]
    assert smtp_server.handler.count("reader3@example.org") == 1

    # Asked to, the runner resends the unknown (here it had arrived: now it has arrived twice).
    with smtp_adapter(smtp_server) as adapter:
        resent = runner_for(journal, adapter, settings, replace(FAST, resend_unknown=True)).run(campaign.id, people)
    assert resent.sent == 1 and resent.all_delivered and not resent.unknown
    assert smtp_server.handler.count("reader3@example.org") == 2


def test_left_in_sending_by_a_crash_is_listed_not_resent(journal, settings, smtp_server):
    people = make_recipients(4)
    campaign = journal.create_campaign("2026-11", "all", "smtp")
    journal.enqueue(campaign.id, [(str(r.id), r.email, "en") for r in people])
    journal.claim(campaign.id, "2", "reader2@example.org")     # what a crash mid-send leaves
    with smtp_adapter(smtp_server) as adapter:
        summary = runner_for(journal, adapter, settings).run(campaign.id, people)
    assert [r.subscriber for r in summary.unknown] == ["2"] and summary.sent == 3
    assert smtp_server.handler.count("reader2@example.org") == 0
    with smtp_adapter(smtp_server) as adapter:
        resent = runner_for(journal, adapter, settings, replace(FAST, resend_unknown=True)).run(campaign.id, people)
    assert resent.sent == 1 and resent.all_delivered
    assert smtp_server.handler.per_address() == {r.email: 1 for r in people}


def test_refused_login_stops_before_any_recipient_is_claimed(journal, settings, starttls_server, client_tls):
    config = parse_smtp_url(f"smtp+starttls://me@127.0.0.1:{starttls_server.port}", password="wrong", timeout=5)
    campaign = journal.create_campaign("2026-11", "all", "smtp")
    with pytest.raises(AdapterError, match="refused the login"):
        runner_for(journal, SmtpAdapter(config, ssl_context=client_tls), settings).run(campaign.id, make_recipients(3))
    assert set(statuses(journal, campaign.id).values()) == {PENDING}
    assert journal.campaign(campaign.id).lease_owner is None


def test_each_recipient_gets_their_variant(journal, settings, smtp_server):
    people = make_recipients(2) + make_recipients(2, variant="de", start=10)
    campaign = journal.create_campaign("2026-11", "all", "smtp")
    with smtp_adapter(smtp_server) as adapter:
        runner_for(journal, adapter, settings).run(campaign.id, people)
    by_address = {m.rcpt_tos[0]: m.message for m in smtp_server.handler.messages}
    composers = {"en": composer_for(settings), "de": composer_for(settings, small_variant("de"))}
    for r in people:
        assert by_address[r.email]["Message-ID"] == composers[r.variant].message_id(r)
    assert all(m.mail_from == "bounces@mcin.example.org" for m in smtp_server.handler.messages)


# -- rate limits and options -----------------------------------------------------------------------

class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_rate_per_second_spaces_messages_evenly():
    clock = FakeClock()
    limiter = RateLimiter(4, None, clock=clock, sleep=clock.sleep)
    times = []
    for _ in range(9):
        limiter.acquire()
        times.append(clock.now - 1000.0)
    assert times == [0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0]


def test_rate_per_hour_is_a_sliding_window():
    clock = FakeClock()
    limiter = RateLimiter(None, 3, clock=clock, sleep=clock.sleep)
    times = []
    for _ in range(7):
        limiter.acquire()
        times.append(clock.now - 1000.0)
        clock.now += 100   # the sender takes 100 s per message
    assert times == [0, 100, 200, 3600, 3700, 3800, 7200]
    assert all(sum(t <= x < t + 3600 for x in times) <= 3 for t in times)


def test_both_limits_together():
    clock = FakeClock()
    limiter = RateLimiter(10, 5, clock=clock, sleep=clock.sleep)
    for _ in range(6):
        limiter.acquire()
    assert clock.now - 1000.0 == pytest.approx(3600.0)


def test_options_from_settings_and_overrides():
    delivery = Delivery(connections=4, rate_per_second=5, rate_per_hour=1000, retry_for_seconds=60,
                        max_consecutive_failures=7)
    options = RunOptions.from_settings(delivery, rate_per_second=2, resend_unknown=True)
    assert (options.connections, options.rate_per_second, options.rate_per_hour, options.retry_for_seconds,
            options.max_consecutive_failures, options.resend_unknown) == (4, 2, 1000, 60, 7, True)


def test_interrupt_does_not_wait_for_a_rate_limit_slot(journal, settings, tmp_path):
    """Ctrl-C while a worker waits an hour for its per-hour slot: the run stops now, the
    recipients not yet sent stay pending, and the lock is released."""
    def progress(p):
        if p.done == 2:
            raise KeyboardInterrupt

    campaign = journal.create_campaign("2026-11", "all", "outbox")
    options = replace(FAST, connections=3, rate_per_hour=2)
    with pytest.raises(KeyboardInterrupt):
        runner_for(journal, OutboxAdapter(tmp_path), settings, options, progress=progress).run(
            campaign.id, make_recipients(5))
    assert sorted(statuses(journal, campaign.id).values()) == [PENDING] * 3 + [SENT] * 2
    assert journal.campaign(campaign.id).lease_owner is None


def test_with_a_lookup_recipients_are_read_a_page_at_a_time(journal, settings, tmp_path):
    """With ``lookup``, the runner streams the list once into the journal and then asks for
    recipients a journal page at a time: never more than a page in one call."""
    people = make_recipients(1200)
    by_id = {str(p.id): p for p in people}
    asked: list[int] = []

    def lookup(sids):
        asked.append(len(sids))
        return {s: by_id[s] for s in sids}

    campaign = journal.create_campaign("2026-11", "all", "outbox")
    summary = runner_for(journal, OutboxAdapter(tmp_path), settings).run(campaign.id, iter(people), lookup=lookup)
    assert summary.sent == 1200 and summary.all_delivered
    assert sum(asked) == 1200 and max(asked) <= 500 and len(asked) >= 3
    assert len(list(tmp_path.glob("*.eml"))) == 1200

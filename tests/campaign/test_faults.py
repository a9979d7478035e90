"""The runner and the SMTP adapter against real servers on loopback that misbehave: refusing
relays and sessions, absent for a while, busy, stalling or trickling after DATA, and a TLS
certificate of a private CA. Backoffs are fractions of a second here (RunOptions)."""
from __future__ import annotations

import sqlite3
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

import pytest

from newsletter.campaign.journal import CampaignStatus, Journal
from newsletter.campaign.runner import CampaignRunner, RunOptions
from newsletter.core.config import load_workspace
from newsletter.delivery import AdapterError, ConnectionLost, get_adapter
from newsletter.delivery.smtp import SmtpAdapter, Timeouts, parse_smtp_url
from newsletter.delivery.states import RecipientState as State
from tests.support.delivery import PASSWORD, USER, composer_for, make_recipients, sample_settings
from tests.support.smtp_servers import free_port, serve_later

FAST = RunOptions(connections=2, retry_for_seconds=10, first_backoff_seconds=0.05, max_backoff_seconds=0.3,
                  max_consecutive_failures=5)
FROM = "bounces@mcin.example.org"


@pytest.fixture(scope="module")
def settings():
    return sample_settings()


@pytest.fixture
def journal(tmp_path: Path):
    with Journal(tmp_path / "newsletter.sqlite3") as journal:
        yield journal


def run(journal, adapter, settings, people, options=FAST, **kw):
    campaign = journal.campaign_for("2026-11", "all", "smtp")
    runner = CampaignRunner(journal, adapter, {"en": composer_for(settings)}, envelope_from=FROM,
                            options=options, **kw)
    try:
        return runner.run(campaign.id, people), campaign.id
    finally:
        adapter.close()


def adapter_for(port: int, connections: int = 2, **timeouts: float) -> SmtpAdapter:
    config = parse_smtp_url(f"smtp://127.0.0.1:{port}", timeouts=Timeouts(connect=2, **{
        "greeting": 5, "session": 5, "mail": 5, "rcpt": 5, "data": 5, "block": 5, "final": 5,
        "transaction": 20, **timeouts}))
    return SmtpAdapter(config, connections=connections)


def states(journal, campaign_id) -> dict[str, State]:
    return {r.subscriber: r.status for r in journal.rows(campaign_id)}


# 1. A relay or policy refusal is a failure for this campaign, never a bounce ---------------------

def test_a_relay_refusal_at_rcpt_bounces_nobody(journal, settings, smtp_server):
    smtp_server.handler.refuse_rcpt = ("554 5.7.1 <x>: Relay access denied", time.monotonic() + 3600)
    bounced: list = []
    summary, cid = run(journal, adapter_for(smtp_server.port), settings, make_recipients(3),
                       on_hard_bounce=bounced.append)
    assert summary.failed_permanent == 3 and bounced == []
    assert all("Relay access denied" in r.reply for r in summary.failures)


def test_an_unknown_user_is_still_a_hard_bounce(journal, settings, smtp_server):
    smtp_server.handler.permanent = {"reader2@example.org"}
    bounced: list = []
    summary, _ = run(journal, adapter_for(smtp_server.port), settings, make_recipients(3),
                     on_hard_bounce=bounced.append)
    assert (summary.sent, summary.failed_permanent, bounced) == (2, 1, [2])


# 2. A refused session pauses the campaign and leaves everyone pending -----------------------------

def test_530_at_mail_pauses_with_everyone_pending_and_a_rerun_sends(journal, settings, smtp_server):
    smtp_server.handler.refuse_mail = ("530 5.7.0 Must issue a STARTTLS command first", time.monotonic() + 3600)
    people = make_recipients(6)
    summary, cid = run(journal, adapter_for(smtp_server.port), settings, people)
    assert summary.paused and "530 5.7.0 Must issue a STARTTLS command first" in summary.paused
    assert summary.failed_permanent == 0 and not summary.finished
    assert set(states(journal, cid).values()) == {State.PENDING}
    assert journal.campaign(cid).status == CampaignStatus.PAUSED

    smtp_server.handler.refuse_mail = None     # the settings were fixed
    again, _ = run(journal, adapter_for(smtp_server.port), settings, people)
    assert again.all_delivered and smtp_server.handler.per_address() == {p.email: 1 for p in people}


# 3. Patience with the server: down, 421, 452 -------------------------------------------------------

def test_a_server_that_is_down_and_comes_back_gets_everything(journal, settings):
    port = free_port()
    thread, started = serve_later(port, 1.5)
    seen = []
    try:
        summary, _ = run(journal, adapter_for(port), settings, make_recipients(5), progress=seen.append)
        thread.join()
        assert summary.all_delivered and summary.paused is None, summary.paused
        assert started[0].handler.per_address() == {f"reader{i}@example.org": 1 for i in range(1, 6)}
        waits = [p for p in seen if p.waiting_until]
        assert waits and "cannot connect" in waits[0].waiting_for
        assert waits[0].waiting_until > time.time() - 30
    finally:
        thread.join()
        for server in started:
            server.controller.stop()


@pytest.mark.parametrize("knob, reply", [("refuse_mail", "421 4.7.0 Try again later"),
                                         ("refuse_rcpt", "452 4.5.3 Too many recipients")])
def test_busy_replies_for_a_while_are_waited_out(journal, settings, smtp_server, knob, reply):
    setattr(smtp_server.handler, knob, (reply, time.monotonic() + 1.5))
    people = make_recipients(8)
    summary, cid = run(journal, adapter_for(smtp_server.port), settings, people,
                       replace(FAST, max_consecutive_failures=3))
    assert summary.all_delivered and summary.paused is None, summary.paused
    assert (summary.failed_temporary, summary.failed_permanent) == (0, 0)
    assert smtp_server.handler.per_address() == {p.email: 1 for p in people}


def test_a_server_away_longer_than_retry_for_pauses_with_everyone_pending(journal, settings):
    started = time.monotonic()
    summary, cid = run(journal, adapter_for(free_port()), settings, make_recipients(4),
                       replace(FAST, retry_for_seconds=1.0))
    assert summary.paused and "did not take mail" in summary.paused and "cannot connect" in summary.paused
    assert 1.0 <= time.monotonic() - started < 10
    assert set(states(journal, cid).values()) == {State.PENDING}


# 10. Timeouts: a stall after DATA, a trickle ---------------------------------------------------------

def test_a_server_that_stalls_after_data_makes_one_unknown_per_connection(journal, settings, smtp_server):
    smtp_server.handler.stall_after_data = 30
    summary, cid = run(journal, adapter_for(smtp_server.port, connections=2, final=0.5), settings,
                       make_recipients(10))
    assert summary.paused and "no answer" in summary.paused
    assert 1 <= len(summary.unknown) <= 2
    assert list(states(journal, cid).values()).count(State.PENDING) >= 8


def test_a_trickling_server_is_cut_off_at_the_transaction_deadline(settings, smtp_server):
    smtp_server.handler.trickle_after_data = True
    message = composer_for(settings).compose(make_recipients(1)[0])
    adapter = adapter_for(smtp_server.port, connections=1, final=1, transaction=1.5)
    started = time.monotonic()
    with adapter, pytest.raises(ConnectionLost, match="cut off") as lost:
        adapter.send(message, FROM, ["reader1@example.org"])
    assert lost.value.uncertain
    assert 1.5 <= time.monotonic() - started < 5


def test_the_reply_to_the_final_dot_may_take_longer_than_other_steps(journal, settings, smtp_server):
    # A slow content filter: 1.2 s for the final reply, longer than every other step's timeout.
    smtp_server.handler.stall_after_data = 1.2
    adapter = adapter_for(smtp_server.port, connections=1, mail=0.5, rcpt=0.5, data=0.5, final=5)
    summary, _ = run(journal, adapter, settings, make_recipients(2))
    assert summary.all_delivered and not summary.unknown


# 12. TLS with a private CA ---------------------------------------------------------------------------

def test_a_self_signed_relay_needs_the_ca_file(sample_ws, smtps_server, tls_files, monkeypatch):
    url = f"smtps://{quote(USER)}:{quote(PASSWORD)}@127.0.0.1:{smtps_server.port}"
    monkeypatch.setenv("NEWSLETTER_SMTP_URL", url)
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", "k" * 32)
    with pytest.raises(AdapterError, match="not trusted.*smtp_ca_file"):
        get_adapter("smtp", load_workspace(sample_ws)).open()

    monkeypatch.setenv("NEWSLETTER_DELIVERY__SMTP_CA_FILE", str(tls_files[0]))
    with get_adapter("smtp", load_workspace(sample_ws)) as adapter:
        (result,) = adapter.send(b"Subject: hi\r\n\r\nhello\r\n", FROM, ["a@example.org"])
    assert result.status is State.SENT
    assert smtps_server.handler.messages[0].tls


# 11. Durability: a claim is synced before its message goes out ---------------------------------------

def test_a_claim_is_committed_with_a_full_sync(journal):
    c = journal.create_campaign("2026-11", "all", "smtp")
    journal.enqueue(c.id, [("1", "a@example.org", "en")])
    statements: list[str] = []
    journal.conn().set_trace_callback(statements.append)
    assert journal.claim(c.id, "1", "a@example.org")
    journal.record(c.id, "1", State.SENT, "250 OK")
    journal.conn().set_trace_callback(None)
    begin = statements.index("BEGIN IMMEDIATE")
    commit = statements.index("COMMIT")
    full = [i for i, s in enumerate(statements) if s.replace(" ", "").upper() == "PRAGMASYNCHRONOUS=FULL"]
    assert full and full[0] < begin < commit, statements
    normal = [i for i, s in enumerate(statements) if s.replace(" ", "").upper() == "PRAGMASYNCHRONOUS=NORMAL"]
    assert normal and normal[0] > commit, "the outcome after it does not pay for a second sync"
    assert journal.conn().execute("PRAGMA synchronous").fetchone()[0] == 1   # NORMAL again


def test_two_campaigns_of_one_edition_never_claim_one_person(tmp_path):
    """The edition check and the claim are one transaction: whichever campaign claims first,
    the other's claim of that person is refused and the row skipped."""
    with Journal(tmp_path / "j.sqlite3") as one, Journal(tmp_path / "j.sqlite3") as two:
        a = one.create_campaign("2026-11", "all", "smtp")
        b = two.create_campaign("2026-11", "german", "smtp")
        rehearsal = one.create_campaign("2026-11", "leaders", "outbox", delivers=False)
        for j, c in ((one, a), (two, b), (one, rehearsal)):
            j.enqueue(c.id, [("7", "Same@example.org", "de")])
        assert one.claim(rehearsal.id, "7", "same@example.org", edition="2026-11")
        assert one.claim(a.id, "7", "same@example.org", edition="2026-11")
        assert str(two.claim(b.id, "7", "SAME@example.org", edition="2026-11")) == "received"
        assert two.rows(b.id)[0].status is State.SKIPPED
        assert not two.claim(b.id, "7", "same@example.org", edition="2026-11")


def test_journal_sync_normal_skips_the_claims_sync(tmp_path):
    with Journal(tmp_path / "j.sqlite3", sync_claims=False) as journal:
        c = journal.create_campaign("2026-11", "all", "smtp")
        journal.enqueue(c.id, [("1", "a@example.org", "en")])
        statements: list[str] = []
        journal.conn().set_trace_callback(statements.append)
        assert journal.claim(c.id, "1", "a@example.org")
        assert not [s for s in statements if "synchronous" in s.lower()]


def test_group_commit_keeps_the_order_and_the_claims_answer(tmp_path):
    from newsletter.campaign.journal import GroupCommit
    with Journal(tmp_path / "j.sqlite3") as journal:
        c = journal.create_campaign("2026-11", "all", "smtp")
        journal.enqueue(c.id, [(str(i), f"r{i}@example.org", "en") for i in range(3)])
        writer = GroupCommit(journal)
        assert writer.claim(c.id, "0", "r0@example.org")
        writer.record(c.id, "0", State.FAILED_TEMPORARY, "451 later")
        assert writer.claim(c.id, "0", "r0@example.org"), "the record was committed before the next claim"
        writer.record(c.id, "0", State.SENT, "250 OK")
        assert not writer.claim(c.id, "0", "r0@example.org")
        writer.unclaim(c.id, "0", "never")   # a sent row is not unclaimed
        writer.close()
        assert states(journal, c.id) == {"0": State.SENT, "1": State.PENDING, "2": State.PENDING}

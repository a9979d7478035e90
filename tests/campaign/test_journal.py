from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time

import pytest

from newsletter.campaign.journal import CampaignLocked, Journal, LeaseOwner
from newsletter.delivery.states import RecipientState

FAILED_TEMPORARY, PENDING, SENDING, SENT = (RecipientState.FAILED_TEMPORARY, RecipientState.PENDING,
                                            RecipientState.SENDING, RecipientState.SENT)
from newsletter.core.errors import DeliveryError


@pytest.fixture
def journal(tmp_path) -> Journal:
    return Journal(tmp_path / "newsletter.sqlite3")


def test_rows_move_through_their_states_and_are_unique(journal):
    c = journal.create_campaign("2026-11", "all", "outbox")
    assert journal.enqueue(c.id, [("1", "a@example.org", "en"), ("2", "b@example.org", "de")]) == 2
    assert journal.enqueue(c.id, [("1", "changed@example.org", "en"), ("3", "c@example.org", "en")]) == 1
    assert journal.counts(c.id)[PENDING] == 3
    assert journal.claim(c.id, "1", "a@example.org")
    journal.record(c.id, "1", SENT, "250 OK")
    assert not journal.claim(c.id, "1", "a@example.org"), "a sent recipient can never be claimed again"
    assert journal.claim(c.id, "2", "b@example.org")
    assert not journal.claim(c.id, "2", "b@example.org"), "in flight (unknown) is not claimed by default"
    assert journal.claim(c.id, "2", "b@example.org", resend_unknown=True)
    journal.record(c.id, "2", FAILED_TEMPORARY, "451 later")
    assert journal.claim(c.id, "2", "b@example.org")
    rows = {r.subscriber: r for r in journal.rows(c.id)}
    assert (rows["1"].status, rows["1"].attempts, rows["1"].reply) == (SENT, 1, "250 OK")
    assert (rows["2"].status, rows["2"].attempts) == (SENDING, 3)
    with pytest.raises(sqlite3.IntegrityError):
        journal.conn().execute("INSERT INTO campaign_recipients (campaign, subscriber, email, variant, updated) "
                               "VALUES (?, '1', 'x@example.org', 'en', 'now')", (c.id,))


def test_unclaim_returns_to_pending(journal):
    c = journal.create_campaign("2026-11", "all", "smtp")
    journal.enqueue(c.id, [("1", "a@example.org", "en")])
    journal.claim(c.id, "1", "a@example.org")
    journal.unclaim(c.id, "1", "login refused")
    (row,) = journal.rows(c.id)
    assert (row.status, row.attempts, row.reply) == (PENDING, 0, "login refused")


def test_find_campaign_returns_the_latest_of_that_edition_segment_and_adapter(journal):
    first = journal.create_campaign("2026-11", "all", "smtp")
    journal.create_campaign("2026-11", "leaders", "smtp")
    latest = journal.create_campaign("2026-11", "all", "smtp")
    assert journal.find_campaign("2026-11", "all", "smtp").id == latest.id != first.id
    assert journal.find_campaign("2026-11", "all", "outbox") is None
    with pytest.raises(DeliveryError, match="no campaign 99"):
        journal.campaign(99)


def test_second_owner_is_refused_with_exit_code_3(journal):
    c = journal.create_campaign("2026-11", "all", "smtp")
    mine, theirs = LeaseOwner.this_process(), LeaseOwner.this_process()
    journal.acquire(c.id, mine, 60)
    journal.acquire(c.id, mine, 60)   # re-entrant for the holder
    with pytest.raises(CampaignLocked, match=f"campaign {c.id} is being sent by another process") as err:
        journal.acquire(c.id, theirs, 60)
    assert err.value.exit_code == 3
    assert f"process {os.getpid()}" in str(err.value)
    journal.release(c.id, mine)
    journal.acquire(c.id, theirs, 60)
    assert not journal.renew(c.id, mine, 60)
    assert journal.renew(c.id, theirs, 60)


def test_expired_lease_is_taken_over(journal):
    c = journal.create_campaign("2026-11", "all", "smtp")
    journal.acquire(c.id, LeaseOwner.this_process(), 0.01)
    time.sleep(0.05)
    journal.acquire(c.id, LeaseOwner.this_process(), 60)


def test_lease_of_a_dead_process_on_this_machine_is_taken_over_at_once(journal):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    ghost = LeaseOwner(socket.gethostname(), int(dead.stdout), "12345", "abc")
    c = journal.create_campaign("2026-11", "all", "smtp")
    journal.acquire(c.id, ghost, 3600)
    journal.acquire(c.id, LeaseOwner.this_process(), 60)


def test_lease_of_a_process_elsewhere_is_respected_until_it_expires(journal):
    elsewhere = LeaseOwner("another-host.example", 1, "1", "abc")
    c = journal.create_campaign("2026-11", "all", "smtp")
    journal.acquire(c.id, elsewhere, 3600)
    with pytest.raises(CampaignLocked, match="another-host.example"):
        journal.acquire(c.id, LeaseOwner.this_process(), 60)


def test_a_reused_pid_is_not_mistaken_for_the_holder(journal):
    # Same pid as this (live) process but another start time: the holder is gone.
    me = LeaseOwner.this_process()
    if not me.started:
        pytest.skip("process start times are only known on Linux")
    impostor = LeaseOwner(me.host, me.pid, str(int(me.started) - 1), "old")
    assert impostor.is_gone() and not me.is_gone()


def test_journal_lives_beside_other_components(tmp_path):
    path = tmp_path / "newsletter.sqlite3"
    Journal(path)
    Journal(path)   # migrating twice is harmless
    tables = {r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"campaigns", "campaign_recipients", "schema_version"} <= tables


def test_campaign_for_creates_once_and_then_resumes(journal):
    first = journal.campaign_for("2026-11", "all", "smtp")
    journal.set_status(first.id, "finished")
    assert journal.campaign_for("2026-11", "all", "smtp").id == first.id
    assert journal.campaign_for("2026-11", "leaders", "smtp").id != first.id


def test_journal_times_are_utc_seconds_and_follow_the_clock(monkeypatch):
    from newsletter.campaign import journal as journal_module

    now = [1_790_000_000.2]
    monkeypatch.setattr(journal_module.time, "time", lambda: now[0])
    first = journal_module._now()
    now[0] = 1_790_000_000.9
    same = journal_module._now()
    now[0] = 1_790_000_001.0
    later = journal_module._now()
    assert first == same == "2026-09-21T14:13:20+00:00"
    assert later == "2026-09-21T14:13:21+00:00"


def test_a_wave_is_a_campaign_of_its_own(journal):
    whole = journal.campaign_for("2026-11", "all", "smtp")
    wave = journal.campaign_for("2026-11", "all", "smtp", languages=("en", "de"))
    other = journal.campaign_for("2026-11", "all", "smtp", languages=("es",))
    assert len({whole.id, wave.id, other.id}) == 3
    assert journal.campaign_for("2026-11", "all", "smtp", languages=("en", "de")).id == wave.id
    assert journal.find_campaign("2026-11", "all", "smtp", ("es",)).id == other.id
    assert journal.find_campaign("2026-11", "all", "smtp").id == whole.id
    assert wave.languages == "en,de" and "languages en,de" in wave.name and "languages" not in whole.name


def test_a_journal_from_before_waves_keeps_its_campaigns_as_whole_editions(tmp_path):
    from newsletter.campaign.journal import MIGRATIONS
    from newsletter.core import db

    path = tmp_path / "old.sqlite3"
    conn = db.connect(path)
    db.migrate(conn, "journal", MIGRATIONS[:3])    # the journal as it was before --lang
    conn.execute("INSERT INTO campaigns (edition, segment, adapter, created, updated, status) "
                 "VALUES ('2026-10', 'all', 'smtp', 'x', 'x', 'finished')")
    conn.commit()
    conn.close()
    with Journal(path) as journal:
        old = journal.find_campaign("2026-10", "all", "smtp")
        assert old is not None and old.languages == "" and old.status == "finished"
        assert journal.find_campaign("2026-10", "all", "smtp", ("de",)) is None

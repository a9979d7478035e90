"""Scheduled sends with an injected clock: parsing with explicit time zones across daylight-saving
changes, due / not yet due / cancelled / held beyond the grace period, and two `send --due`
processes claiming at once."""
from __future__ import annotations

import datetime as dt
import multiprocessing
import sqlite3
import time
from pathlib import Path

import pytest

from newsletter.campaign.journal import LeaseOwner
from newsletter.campaign.schedule import (CANCELLED, HELD, SCHEDULED, SENDING, SENT, Schedule, ScheduleError, Schedules,
                                          clock_from_env, heartbeat, parse_at)
from newsletter.core import db
from newsletter.core.errors import EXIT_LOCKED, DatabaseLocked

UTC = dt.timezone.utc
GRACE = dt.timedelta(minutes=60)


class Clock:
    def __init__(self, now: dt.datetime):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def test_a_time_is_read_in_its_own_zone_and_stored_as_utc() -> None:
    assert parse_at("2026-12-03 09:00 Europe/Berlin") == (dt.datetime(2026, 12, 3, 8, 0, tzinfo=UTC), "Europe/Berlin")
    # Summer time: Berlin is two hours ahead.
    assert parse_at("2026-07-02 09:00 Europe/Berlin")[0] == dt.datetime(2026, 7, 2, 7, 0, tzinfo=UTC)
    assert parse_at("2026-12-03T9:30 UTC")[0] == dt.datetime(2026, 12, 3, 9, 30, tzinfo=UTC)


def test_the_hour_skipped_in_spring_is_refused() -> None:
    with pytest.raises(ScheduleError, match="does not exist in Europe/Berlin"):
        parse_at("2026-03-29 02:30 Europe/Berlin")


def test_the_hour_that_happens_twice_in_autumn_needs_its_offset() -> None:
    with pytest.raises(ScheduleError, match=r"happens twice .* \+02:00 .* \+01:00"):
        parse_at("2026-10-25 02:30 Europe/Berlin")
    first, _ = parse_at("2026-10-25 02:30 +02:00 Europe/Berlin")
    second, _ = parse_at("2026-10-25 02:30 +01:00 Europe/Berlin")
    assert second - first == dt.timedelta(hours=1)
    assert first == dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize("text, message", [
    ("2026-12-03 09:00", "the time zone is missing"),
    ("2026-12-03 09:00 +01:00", "the time zone is missing"),
    ("Thursday 9am Europe/Berlin", "expected a date, a time and a time zone"),
    ("2026-12-03 09:00 Berlin", "did you mean 'Europe/Berlin'"),
    ("2026-12-03 09:00 localtime", "unknown time zone 'localtime'"),
    ("2026-13-03 09:00 UTC", "is not a date and time"),
])
def test_unclear_times_are_refused_with_the_expected_form(text: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        parse_at(text)


@pytest.mark.parametrize("zone", ["utc", "Utc", " UTC"])
def test_utc_in_any_case_is_stored_as_utc_and_shown(zone: str) -> None:
    due, name = parse_at(f"2026-12-03 09:00 {zone}")
    assert (due, name) == (dt.datetime(2026, 12, 3, 9, 0, tzinfo=UTC), "UTC")
    shown = Schedule(1, "2026-11", "all", (), "outbox", due, name, SCHEDULED, {}, None, due)
    assert shown.when == "Thu 03 Dec 2026 09:00 UTC"


@pytest.mark.parametrize("text", ["9999-12-31 23:30 America/New_York", "0001-01-01 00:30 Europe/Berlin"])
def test_a_time_beyond_the_calendar_in_utc_is_refused_not_a_crash(text: str) -> None:
    with pytest.raises(ScheduleError, match="out of range"):
        parse_at(text)


def add(schedules: Schedules, at: str) -> int:
    due, zone = parse_at(at)
    return schedules.add("2026-11", "all", "outbox", due, zone).id


def test_a_database_locked_by_another_process_is_the_locked_error_not_a_traceback(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 50)
    clock = Clock(dt.datetime(2026, 12, 3, 7, 0, tzinfo=UTC))
    with Schedules(tmp_path / "db.sqlite3", clock) as schedules:
        ident = add(schedules, "2026-12-03 09:00 Europe/Berlin")
        clock.now = dt.datetime(2026, 12, 3, 8, 5, tzinfo=UTC)
        other = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")     # another process writing (a send, an import)
        try:
            with pytest.raises(DatabaseLocked) as raised:
                schedules.claim(schedules.get(ident), GRACE)
            assert raised.value.exit_code == EXIT_LOCKED and "db.sqlite3" in str(raised.value)
            with pytest.raises(DatabaseLocked):
                schedules.cancel(ident)
        finally:
            other.rollback()
            other.close()
        assert schedules.claim(schedules.get(ident), GRACE) == "start"


def test_due_not_yet_due_cancelled_and_held(tmp_path: Path) -> None:
    clock = Clock(dt.datetime(2026, 12, 3, 7, 0, tzinfo=UTC))
    with Schedules(tmp_path / "db.sqlite3", clock) as schedules:
        soon = add(schedules, "2026-12-03 09:00 Europe/Berlin")      # 08:00 UTC
        later = add(schedules, "2026-12-04 09:00 Europe/Berlin")
        dropped = add(schedules, "2026-12-03 08:30 Europe/Berlin")
        assert schedules.due() == []
        schedules.cancel(dropped)
        clock.now = dt.datetime(2026, 12, 3, 8, 5, tzinfo=UTC)
        assert [s.id for s in schedules.due()] == [soon]
        assert schedules.claim(schedules.get(soon), GRACE) == "start"
        assert schedules.get(soon).status == SENDING
        assert schedules.get(dropped).status == CANCELLED
        # The next day's schedule: the machine was off until 11:30 local time, beyond the grace period.
        clock.now = dt.datetime(2026, 12, 4, 10, 30, tzinfo=UTC)
        [late] = schedules.due()
        assert late.id == later and schedules.claim(late, GRACE) == "held"
        held = schedules.get(later)
        assert held.status == HELD and f"schedule release {later}" in held.note
        assert schedules.due() == []
        assert schedules.release(later).status == SENDING
        with pytest.raises(ScheduleError, match="is sending; only a scheduled, held or failed one can be cancelled"):
            schedules.cancel(later)
        with pytest.raises(ScheduleError, match="is cancelled; only a held or failed one can be released"):
            schedules.release(dropped)


def test_a_schedule_across_the_autumn_change_is_due_at_the_right_instant(tmp_path: Path) -> None:
    clock = Clock(dt.datetime(2026, 10, 24, 12, 0, tzinfo=UTC))
    with Schedules(tmp_path / "db.sqlite3", clock) as schedules:
        ident = add(schedules, "2026-10-25 09:00 Europe/Berlin")     # after the change: UTC+1 -> 08:00 UTC
        clock.now = dt.datetime(2026, 10, 25, 7, 59, tzinfo=UTC)
        assert schedules.due() == []
        clock.now = dt.datetime(2026, 10, 25, 8, 0, tzinfo=UTC)
        assert [s.id for s in schedules.due()] == [ident]
        assert schedules.get(ident).local_due.strftime("%H:%M %Z") == "09:00 CET"


def _claim_all(path: str, barrier, results) -> None:
    clock = Clock(dt.datetime(2026, 12, 3, 8, 1, tzinfo=UTC))
    with Schedules(Path(path), clock) as schedules:
        due = schedules.due()
        barrier.wait()
        results.extend([s.id for s in due if schedules.claim(s, GRACE) == "start"])


def test_two_due_runs_at_once_start_each_schedule_once(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    with Schedules(path, Clock(dt.datetime(2026, 12, 1, tzinfo=UTC))) as schedules:
        ids = [add(schedules, f"2026-12-03 07:{m} UTC") for m in (30, 40, 50, 59)]
    ctx = multiprocessing.get_context("fork")
    with ctx.Manager() as manager:
        barrier, results = manager.Barrier(2), manager.list()
        procs = [ctx.Process(target=_claim_all, args=(str(path), barrier, results)) for _ in range(2)]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(60)
        assert all(proc.exitcode == 0 for proc in procs)
        assert sorted(results) == ids
    with Schedules(path) as schedules:
        assert {s.status for s in schedules.all(include_done=True)} == {SENDING}
        assert SCHEDULED not in {s.status for s in schedules.all()}


@pytest.mark.parametrize("day, utc_hour", [
    ("2027-03-27", 8),   # the day before clocks go forward: CET, UTC+1
    ("2027-03-28", 7),   # the day of the change (at 02:00): CEST, UTC+2
    ("2027-03-29", 7),
    ("2026-10-24", 7),   # the day before clocks go back: CEST
    ("2026-10-25", 8),   # the day of the change (at 03:00): CET
    ("2026-10-26", 8),
])
def test_nine_oclock_berlin_fires_at_the_right_utc_hour_around_each_change(tmp_path: Path, day: str,
                                                                           utc_hour: int) -> None:
    clock = Clock(dt.datetime(2026, 10, 1, tzinfo=UTC))
    with Schedules(tmp_path / "db.sqlite3", clock) as schedules:
        ident = add(schedules, f"{day} 09:00 Europe/Berlin")
        fires = dt.datetime.fromisoformat(day).replace(hour=utc_hour, tzinfo=UTC)
        clock.now = fires - dt.timedelta(seconds=1)
        assert schedules.due() == []
        clock.now = fires
        assert [s.id for s in schedules.due()] == [ident]
        assert schedules.get(ident).local_due.strftime("%Y-%m-%d %H:%M") == f"{day} 09:00"


def test_the_spring_gap_of_2027_is_refused_and_an_offset_does_not_smuggle_it_in() -> None:
    with pytest.raises(ScheduleError, match="2027-03-28 02:30 does not exist in Europe/Berlin"):
        parse_at("2027-03-28 02:30 Europe/Berlin")
    with pytest.raises(ScheduleError, match="does not exist"):
        parse_at("2027-03-28 02:30 +01:00 Europe/Berlin")
    with pytest.raises(ScheduleError, match="Europe/Berlin is not at \\+02:00 then"):
        parse_at("2026-12-03 09:00 +02:00 Europe/Berlin")


def test_a_time_in_the_past_is_refused(tmp_path: Path) -> None:
    clock = Clock(dt.datetime(2026, 12, 3, 8, 0, tzinfo=UTC))
    with Schedules(tmp_path / "db.sqlite3", clock) as schedules:
        with pytest.raises(ScheduleError, match="2026-12-03 09:00 CET is in the past \\(it is now 2026-12-03 09:00 CET\\)"):
            add(schedules, "2026-12-03 09:00 Europe/Berlin")
        assert schedules.all(include_done=True) == []


def test_a_stopped_send_is_resumed_within_the_grace_period_of_its_stop_and_held_after(tmp_path: Path) -> None:
    clock = Clock(dt.datetime(2026, 12, 3, 7, 0, tzinfo=UTC))
    with Schedules(tmp_path / "db.sqlite3", clock) as schedules:
        first, second = add(schedules, "2026-12-03 08:00 UTC"), add(schedules, "2026-12-03 08:10 UTC")
        clock.now = dt.datetime(2026, 12, 3, 8, 15, tzinfo=UTC)
        me = str(LeaseOwner.this_process())
        assert [schedules.claim(s, GRACE, me) for s in schedules.due()] == ["start", "start"]
        assert schedules.interrupted() == []           # this process is alive and sending them
        clock.now = dt.datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
        schedules.stopped(first, "stopped by SIGTERM")
        schedules.stopped(second, "stopped by SIGTERM")
        assert {s.id for s in schedules.interrupted()} == {first, second}
        # Forty minutes after the stop (over an hour after its time): resumed.
        clock.now = dt.datetime(2026, 12, 3, 9, 40, tzinfo=UTC)
        assert schedules.claim(schedules.get(first), GRACE, me) == "start"
        assert schedules.get(first).status == SENDING and schedules.get(first).owner == me
        # Two hours after the stop: held for the editor.
        clock.now = dt.datetime(2026, 12, 3, 11, 0, tzinfo=UTC)
        assert schedules.claim(schedules.get(second), GRACE, me) == "held"
        held = schedules.get(second)
        assert held.status == HELD and "stopped at 2026-12-03 09:00 UTC and not resumed within 60 minutes" in held.note
        schedules.finish(first, True, "campaign 1: sent 3")
        assert schedules.get(first).status == SENT and schedules.get(first).owner is None


def test_a_send_whose_process_is_gone_is_resumable_and_only_once(tmp_path: Path) -> None:
    clock = Clock(dt.datetime(2026, 12, 3, 7, 0, tzinfo=UTC))
    with Schedules(tmp_path / "db.sqlite3", clock) as schedules:
        ident = add(schedules, "2026-12-03 08:00 UTC")
        clock.now = dt.datetime(2026, 12, 3, 8, 1, tzinfo=UTC)
        dead = multiprocessing.get_context("fork").Process(target=lambda: None)
        dead.start()
        dead.join()
        gone = LeaseOwner(LeaseOwner.this_process().host, dead.pid, "", "x")
        assert schedules.claim(schedules.due()[0], GRACE, str(gone)) == "start"
        [interrupted] = schedules.interrupted()
        assert interrupted.id == ident
        me = str(LeaseOwner.this_process())
        assert schedules.claim(interrupted, GRACE, me) == "start"
        assert schedules.claim(interrupted, GRACE, "another") == "taken"   # its owner changed meanwhile


def test_the_heartbeat_keeps_a_long_send_alive(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    clock = Clock(dt.datetime(2026, 12, 3, 7, 0, tzinfo=UTC))
    with Schedules(path, clock) as schedules:
        ident = add(schedules, "2026-12-03 08:00 UTC")
        clock.now = dt.datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
        schedules.claim(schedules.get(ident), GRACE, "me")
        later = Clock(dt.datetime(2026, 12, 3, 10, 30, tzinfo=UTC))
        with heartbeat(path, ident, "me", later, every=0.01):
            deadline = dt.datetime.now() + dt.timedelta(seconds=10)
            while schedules.get(ident).updated != later.now and dt.datetime.now() < deadline:
                time.sleep(0.01)
        assert schedules.get(ident).updated == later.now


def test_the_test_clock_comes_from_the_environment() -> None:
    assert clock_from_env({"NEWSLETTER_TEST_NOW": "2026-12-03T08:05:00Z"})() == dt.datetime(2026, 12, 3, 8, 5, tzinfo=UTC)
    assert clock_from_env({})().year >= 2026
    with pytest.raises(ScheduleError, match="give the offset too"):
        clock_from_env({"NEWSLETTER_TEST_NOW": "2026-12-03T08:05:00"})

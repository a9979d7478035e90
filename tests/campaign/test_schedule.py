"""Scheduled sends with an injected clock: parsing with explicit time zones across daylight-saving
changes, due / not yet due / cancelled / held beyond the grace period, and two `send --due`
processes claiming at once."""
from __future__ import annotations

import datetime as dt
import multiprocessing
from pathlib import Path

import pytest

from newsletter.campaign.schedule import (CANCELLED, HELD, SCHEDULED, STARTED, ScheduleError, Schedules,
                                          parse_at)

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
    ("2026-12-03 09:00", "expected a date, a time and a time zone"),
    ("2026-12-03 09:00 Berlin", "did you mean 'Europe/Berlin'"),
    ("2026-12-03 09:00 localtime", "unknown time zone 'localtime'"),
    ("2026-13-03 09:00 UTC", "is not a date and time"),
])
def test_unclear_times_are_refused_with_the_expected_form(text: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        parse_at(text)


def add(schedules: Schedules, at: str) -> int:
    due, zone = parse_at(at)
    return schedules.add("2026-11", "all", "outbox", due, zone).id


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
        assert schedules.get(soon).status == STARTED
        assert schedules.get(dropped).status == CANCELLED
        # The next day's schedule: the machine was off until 11:30 local time, beyond the grace period.
        clock.now = dt.datetime(2026, 12, 4, 10, 30, tzinfo=UTC)
        [late] = schedules.due()
        assert late.id == later and schedules.claim(late, GRACE) == "held"
        held = schedules.get(later)
        assert held.status == HELD and f"schedule release {later}" in held.note
        assert schedules.due() == []
        assert schedules.release(later).status == STARTED
        with pytest.raises(ScheduleError, match="is started; only a scheduled or held one can be cancelled"):
            schedules.cancel(later)


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
        assert {s.status for s in schedules.all(include_done=True)} == {STARTED}
        assert SCHEDULED not in {s.status for s in schedules.all()}

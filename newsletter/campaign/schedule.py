"""Scheduled sends: "send this edition to this segment on Thursday at 9:00 Berlin time".

A schedule is recorded in the workspace database (component ``schedule``) with the instant it
is due (UTC) and the time zone it was given in. ``newsletter send --due`` (run by cron or a
systemd timer) starts whatever is due. A send that could not start within the grace period
after its time is *held*, never sent late without the editor's word (``schedule release``):
a newsletter about an event on Friday must not arrive on Saturday because a server was down.

Claiming a due schedule is one UPDATE that only one process can win, so two ``send --due``
runs at once start each campaign once.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from newsletter.core import db
from newsletter.core.errors import NewsletterError
from newsletter.core.validation import suggest

COMPONENT = "schedule"
SCHEDULED, STARTED, SENT, FAILED, CANCELLED, HELD = "scheduled", "started", "sent", "failed", "cancelled", "held"
STATES = (SCHEDULED, STARTED, SENT, FAILED, CANCELLED, HELD)
Clock = Callable[[], dt.datetime]

MIGRATIONS = [
    f"""
    CREATE TABLE schedules (
        id        INTEGER PRIMARY KEY,
        edition   TEXT NOT NULL,
        segment   TEXT NOT NULL,
        languages TEXT NOT NULL DEFAULT '',
        adapter   TEXT NOT NULL,
        due       TEXT NOT NULL,
        timezone  TEXT NOT NULL,
        status    TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN ({", ".join(repr(s) for s in STATES)})),
        options   TEXT NOT NULL DEFAULT '{{}}',
        created   TEXT NOT NULL,
        updated   TEXT NOT NULL,
        note      TEXT
    );
    CREATE INDEX schedules_by_due ON schedules (status, due);
    """,
]

_AT = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})[ T](\d{1,2}:\d{2})(?::\d{2})?\s*(?:([+-]\d{2}:?\d{2}))?\s+(\S+)\s*$")


class ScheduleError(NewsletterError):
    """A schedule cannot be made, found or changed."""


@dataclass(frozen=True)
class Schedule:
    id: int
    edition: str
    segment: str
    languages: tuple[str, ...]
    adapter: str
    due: dt.datetime            # UTC
    timezone: str
    status: str
    options: dict[str, Any]
    note: str | None

    @property
    def local_due(self) -> dt.datetime:
        return self.due.astimezone(ZoneInfo(self.timezone))

    def describe(self) -> str:
        langs = f" --lang {','.join(self.languages)}" if self.languages else ""
        when = self.local_due.strftime("%a %d %b %Y %H:%M %Z")
        note = f" ({self.note})" if self.note else ""
        return f"{self.id:>4}  {self.status:<9} {when:<28} {self.edition} --segment {self.segment}{langs}{note}"


def parse_at(text: str) -> tuple[dt.datetime, str]:
    """``2026-12-03 09:00 Europe/Berlin`` -> (the instant in UTC, 'Europe/Berlin').

    The time zone is required. A local time that does not exist (the hour skipped when clocks
    go forward) is refused; one that exists twice (when clocks go back) needs its UTC offset:
    ``2026-10-25 02:30 +01:00 Europe/Berlin``."""
    match = _AT.match(text)
    if match is None:
        raise ScheduleError(f"--at {text!r}: expected a date, a time and a time zone, "
                            "for example --at \"2026-12-03 09:00 Europe/Berlin\"")
    day, clock, offset, zone_name = match.groups()
    zone = _zone(zone_name)
    try:
        naive = dt.datetime.fromisoformat(f"{day} {clock.zfill(5)}")
    except ValueError:
        raise ScheduleError(f"--at {text!r}: {day} {clock} is not a date and time "
                            "(expected YYYY-MM-DD HH:MM)") from None
    return _localise(naive, zone, offset, text).astimezone(dt.timezone.utc), zone_name


def _zone(name: str) -> ZoneInfo:
    if name.upper() == "UTC":
        return ZoneInfo("UTC")
    try:
        if "/" not in name:
            raise ZoneInfoNotFoundError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        zones = sorted(available_timezones())
        guess = [z for z in zones if z.split("/")[-1].lower() == name.lower()]
        hint = f"; did you mean {guess[0]!r}?" if guess else suggest(name, zones)
        raise ScheduleError(f"unknown time zone {name!r}{hint} (use a name such as Europe/Berlin or UTC)") from None


def _localise(naive: dt.datetime, zone: ZoneInfo, offset: str | None, text: str) -> dt.datetime:
    # A list, not a set: aware datetimes in one zone compare equal whatever their fold.
    candidates = [naive.replace(tzinfo=zone, fold=fold) for fold in (0, 1)]
    real = [c for c in candidates if c.astimezone(dt.timezone.utc).astimezone(zone).replace(tzinfo=None) == naive]
    if not real:
        raise ScheduleError(f"--at {text!r}: {naive:%Y-%m-%d %H:%M} does not exist in {zone.key} "
                            "(the clocks skip that hour); choose another time")
    if offset:
        wanted = dt.timedelta(hours=int(offset[:3]), minutes=int(offset[0] + offset[-2:]))
        chosen = [c for c in real if c.utcoffset() == wanted]
        if not chosen:
            raise ScheduleError(f"--at {text!r}: {zone.key} is not at {offset} then")
        return chosen[0]
    if len({c.utcoffset() for c in real}) > 1:
        shown = " or ".join(_offset(c) for c in sorted(real, key=lambda c: c.utcoffset(), reverse=True))
        raise ScheduleError(f"--at {text!r}: {naive:%Y-%m-%d %H:%M} happens twice in {zone.key} (the clocks "
                            f"go back); add the offset, e.g. \"{naive:%Y-%m-%d %H:%M} {shown.split(' or ')[0]} {zone.key}\" "
                            f"({shown})")
    return real[0]


def _offset(moment: dt.datetime) -> str:
    total = int(moment.utcoffset().total_seconds() // 60)
    sign = "+" if total >= 0 else "-"
    return f"{sign}{abs(total) // 60:02d}:{abs(total) % 60:02d}"


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _from_iso(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Schedules:
    """The schedules in one workspace database."""

    def __init__(self, path: Path, clock: Clock = _utcnow):
        self.clock = clock
        self.conn = db.connect(path)
        db.migrate(self.conn, COMPONENT, MIGRATIONS)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Schedules:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, edition: str, segment: str, adapter: str, due: dt.datetime, timezone: str,
            languages: tuple[str, ...] = (), options: dict[str, Any] | None = None) -> Schedule:
        now = _iso(self.clock())
        with db.transaction(self.conn):
            cur = self.conn.execute(
                "INSERT INTO schedules (edition, segment, languages, adapter, due, timezone, options, created, updated) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (edition, segment, ",".join(languages), adapter, _iso(due), timezone,
                 json.dumps(options or {}, sort_keys=True), now, now))
        return self.get(cur.lastrowid)

    def get(self, schedule_id: int) -> Schedule:
        row = self.conn.execute("SELECT * FROM schedules WHERE id = ?", (schedule_id,)).fetchone()
        if row is None:
            raise ScheduleError(f"no scheduled send {schedule_id} (see `newsletter schedule`)")
        return _schedule(row)

    def all(self, include_done: bool = False) -> list[Schedule]:
        where = "" if include_done else f"WHERE status IN ('{SCHEDULED}', '{HELD}', '{STARTED}')"
        return [_schedule(r) for r in self.conn.execute(f"SELECT * FROM schedules {where} ORDER BY due, id")]

    def cancel(self, schedule_id: int) -> Schedule:
        return self._move(schedule_id, (SCHEDULED, HELD), CANCELLED, "cancelled")

    def due(self) -> list[Schedule]:
        now = _iso(self.clock())
        rows = self.conn.execute("SELECT * FROM schedules WHERE status = ? AND due <= ? ORDER BY due, id",
                                 (SCHEDULED, now))
        return [_schedule(r) for r in rows]

    def claim(self, schedule: Schedule, grace: dt.timedelta) -> str:
        """Take a due schedule for this process: 'start' (send it now), 'held' (too late:
        held for the editor) or 'taken' (another process claimed it first)."""
        late = self.clock() - schedule.due > grace
        state, note = (HELD, f"not started within {_minutes(grace)} of its time; "
                             f"`newsletter schedule release {schedule.id}` sends it") if late else (STARTED, None)
        with db.transaction(self.conn):
            cur = self.conn.execute("UPDATE schedules SET status = ?, note = ?, updated = ? WHERE id = ? AND status = ?",
                                    (state, note, _iso(self.clock()), schedule.id, SCHEDULED))
        if cur.rowcount == 0:
            return "taken"
        return "held" if late else "start"

    def release(self, schedule_id: int) -> Schedule:
        """The editor agrees to send a held schedule now."""
        return self._move(schedule_id, (HELD,), STARTED, "released by the editor")

    def finish(self, schedule_id: int, ok: bool, note: str | None = None) -> None:
        with db.transaction(self.conn):
            self.conn.execute("UPDATE schedules SET status = ?, note = ?, updated = ? WHERE id = ?",
                              (SENT if ok else FAILED, note, _iso(self.clock()), schedule_id))

    def _move(self, schedule_id: int, from_states: tuple[str, ...], to: str, note: str) -> Schedule:
        current = self.get(schedule_id)
        if current.status not in from_states:
            raise ScheduleError(f"scheduled send {schedule_id} is {current.status}; only a "
                                f"{' or '.join(from_states)} one can be {note.split()[0]}")
        with db.transaction(self.conn):
            cur = self.conn.execute(
                f"UPDATE schedules SET status = ?, note = ?, updated = ? WHERE id = ? AND status IN "
                f"({', '.join('?' * len(from_states))})", (to, note, _iso(self.clock()), schedule_id, *from_states))
        if cur.rowcount == 0:  # changed by another process meanwhile
            raise ScheduleError(f"scheduled send {schedule_id} changed meanwhile; look again with `newsletter schedule`")
        return self.get(schedule_id)


def _minutes(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _schedule(row: sqlite3.Row) -> Schedule:
    return Schedule(row["id"], row["edition"], row["segment"],
                    tuple(l for l in row["languages"].split(",") if l), row["adapter"],
                    _from_iso(row["due"]), row["timezone"], row["status"], json.loads(row["options"]), row["note"])

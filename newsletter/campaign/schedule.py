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
import functools
import json
import logging
import os
import re
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from newsletter.campaign.journal import LeaseOwner
from newsletter.core import db
from newsletter.core.errors import NewsletterError
from newsletter.core.validation import suggest

log = logging.getLogger(__name__)
COMPONENT = "schedule"
SCHEDULED, SENDING, SENT, FAILED, CANCELLED, HELD = "scheduled", "sending", "sent", "failed", "cancelled", "held"
STATES = (SCHEDULED, SENDING, SENT, FAILED, CANCELLED, HELD)
# Not yet sending, and the editor may still send (release) or drop (cancel) it.
WAITING = (SCHEDULED, HELD, FAILED)
Clock = Callable[[], dt.datetime]
# For tests only: the time `send --at` and `send --due` take for "now" (ISO 8601 with an
# offset, e.g. 2026-12-03T08:05:00+00:00). Documented in docs/scheduling.md, never for editors.
NOW_ENV = "NEWSLETTER_TEST_NOW"
DEFAULT_GRACE = dt.timedelta(minutes=60)

# Written before any release used it; the table's first version is this one.
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
        owner     TEXT,
        note      TEXT
    );
    CREATE INDEX schedules_by_due ON schedules (status, due);
    """,
]

_AT = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})[ T](\d{1,2}:\d{2})(?::\d{2})?\s*(?:([+-]\d{2}:?\d{2}))?\s+(\S+)\s*$")

_NO_ZONE = re.compile(r"^\s*\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}(?::\d{2})?\s*(?:[+-]\d{2}:?\d{2})?\s*$")


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
    updated: dt.datetime        # UTC; while sending, the last sign of life of its sender
    owner: str | None = None    # the process sending it (journal.LeaseOwner), while it does

    @property
    def local_due(self) -> dt.datetime:
        return self.due.astimezone(ZoneInfo(self.timezone))

    @property
    def when(self) -> str:
        """``Thu 03 Dec 2026 09:00 CET (Europe/Berlin) = 08:00 UTC``: the time as it was given,
        and in UTC (with the date when it differs)."""
        local = self.local_due
        if self.timezone == "UTC":
            return f"{local:%a %d %b %Y %H:%M} UTC"
        utc = self.due.strftime("%H:%M UTC" if utc_same_day(local, self.due) else "%a %d %b %H:%M UTC")
        return f"{local:%a %d %b %Y %H:%M} {local.tzname()} ({self.timezone}) = {utc}"

    @property
    def target(self) -> str:
        langs = f" --lang {','.join(self.languages)}" if self.languages else ""
        return f"{self.edition} --segment {self.segment}{langs} via {self.adapter}"

    def describe(self) -> str:
        note = f"  ({self.note})" if self.note else ""
        return f"{self.id:>4}  {self.status:<9}  {self.when}  {self.target}{note}"


def utc_same_day(local: dt.datetime, utc: dt.datetime) -> bool:
    return local.date() == utc.astimezone(dt.timezone.utc).date()


def parse_at(text: str) -> tuple[dt.datetime, str]:
    """``2026-12-03 09:00 Europe/Berlin`` -> (the instant in UTC, 'Europe/Berlin').

    The time zone is required. A local time that does not exist (the hour skipped when clocks
    go forward) is refused; one that exists twice (when clocks go back) needs its UTC offset:
    ``2026-10-25 02:30 +01:00 Europe/Berlin``."""
    if _NO_ZONE.match(text):
        raise ScheduleError(f"--at {text!r}: the time zone is missing; name it, for example "
                            f"--at \"{text.strip()} Europe/Berlin\" (an IANA name, or UTC): the time is "
                            "never guessed from this machine's clock")
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
    try:
        due = _localise(naive, zone, offset, text).astimezone(dt.timezone.utc)
    except OverflowError:   # 9999-12-31 23:30 in New York is in year 10000 in UTC
        raise ScheduleError(f"--at {text!r}: {day} {clock} is out of range (in UTC it falls outside "
                            "the years 1 to 9999)") from None
    # The zone's own name: 'utc' would be stored as typed, and ZoneInfo('utc') does not exist.
    return due, zone.key


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


def clock_from_env(environ: Mapping[str, str] | None = None) -> Clock:
    """The real clock, or for tests the fixed time in NEWSLETTER_TEST_NOW."""
    text = (os.environ if environ is None else environ).get(NOW_ENV)
    if not text:
        return _utcnow
    try:
        fixed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ScheduleError(f"{NOW_ENV}={text!r}: expected an ISO 8601 time with offset") from None
    if fixed.tzinfo is None:
        raise ScheduleError(f"{NOW_ENV}={text!r}: give the offset too, e.g. {text}+00:00")
    return lambda: fixed


def refuse_past(due: dt.datetime, zone: str, now: dt.datetime) -> None:
    """A time already past cannot be scheduled (it would be held at once, or sent late)."""
    if due <= now:
        raise ScheduleError(f"{_local(due, zone)} is in the past (it is now {_local(now, zone)}); "
                            "choose a later time, or send now without --at")


F = TypeVar("F", bound=Callable[..., Any])


def _translated(method: F) -> F:
    """SQLite's errors as the project's own (db.translate): a lock held by another process
    is DatabaseLocked (exit 3, naming the file), not a traceback out of `send --due`."""
    @functools.wraps(method)
    def wrapper(self: Schedules, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise db.translate(exc, self.path) from exc
    return wrapper  # type: ignore[return-value]


class Schedules:
    """The schedules in one workspace database. States: scheduled -> sending -> sent | failed;
    scheduled -> held (missed its grace period) -> sending (released) ; scheduled | held |
    failed -> cancelled. Every change of state is one UPDATE conditioned on the state it
    leaves, so of two processes only one can make it."""

    def __init__(self, path: Path, clock: Clock = _utcnow):
        self.clock = clock
        self.path = path
        with db.translated(path):
            self.conn = db.connect(path)
            db.migrate(self.conn, COMPONENT, MIGRATIONS)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Schedules:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @_translated
    def add(self, edition: str, segment: str, adapter: str, due: dt.datetime, timezone: str,
            languages: tuple[str, ...] = (), options: dict[str, Any] | None = None) -> Schedule:
        """Record a scheduled send; a time already past is refused (it would be held at once)."""
        now = self.clock()
        refuse_past(due, timezone, now)
        with db.transaction(self.conn):
            cur = self.conn.execute(
                "INSERT INTO schedules (edition, segment, languages, adapter, due, timezone, options, created, updated) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (edition, segment, ",".join(languages), adapter, _iso(due), timezone,
                 json.dumps(options or {}, sort_keys=True), _iso(now), _iso(now)))
        return self.get(cur.lastrowid)

    @_translated
    def get(self, schedule_id: int) -> Schedule:
        row = self.conn.execute("SELECT * FROM schedules WHERE id = ?", (schedule_id,)).fetchone()
        if row is None:
            raise ScheduleError(f"there is no scheduled send {schedule_id} (`newsletter schedule --all` lists them)")
        return _schedule(row)

    @_translated
    def all(self, include_done: bool = False) -> list[Schedule]:
        where = "" if include_done else f"WHERE status IN ('{SCHEDULED}', '{HELD}', '{SENDING}', '{FAILED}')"
        return [_schedule(r) for r in self.conn.execute(f"SELECT * FROM schedules {where} ORDER BY due, id")]

    def cancel(self, schedule_id: int) -> Schedule:
        return self._move(schedule_id, WAITING, CANCELLED, "cancelled by the editor", "cancelled")

    @_translated
    def due(self) -> list[Schedule]:
        """Scheduled sends whose time has come, soonest first."""
        now = _iso(self.clock())
        rows = self.conn.execute("SELECT * FROM schedules WHERE status = ? AND due <= ? ORDER BY due, id",
                                 (SCHEDULED, now))
        return [_schedule(r) for r in rows]

    @_translated
    def interrupted(self) -> list[Schedule]:
        """Sends started by a process that stopped (SIGTERM) or is gone (a crash), to resume."""
        rows = self.conn.execute("SELECT * FROM schedules WHERE status = ? ORDER BY due, id", (SENDING,))
        return [s for s in map(_schedule, rows) if s.owner is None or _gone(s.owner)]

    @_translated
    def next_due(self) -> Schedule | None:
        row = self.conn.execute("SELECT * FROM schedules WHERE status = ? ORDER BY due, id LIMIT 1",
                                (SCHEDULED,)).fetchone()
        return _schedule(row) if row else None

    @_translated
    def claim(self, schedule: Schedule, grace: dt.timedelta, owner: str = "") -> str:
        """Take a due or interrupted schedule for this process: 'start' (send or resume it
        now), 'held' (too late: held for the editor) or 'taken' (another process was first).
        Too late: more than ``grace`` after its time, or for an interrupted one, after its
        sender's last sign of life."""
        why = self.too_late(schedule, grace)
        late = why is not None
        state, note, new_owner = ((HELD, f"{why}; `newsletter schedule release {schedule.id}` sends it", None)
                                  if late else (SENDING, None, owner or None))
        with db.transaction(self.conn):
            cur = self.conn.execute(
                "UPDATE schedules SET status = ?, note = ?, owner = ?, updated = ? "
                "WHERE id = ? AND status = ? AND owner IS ?",
                (state, note, new_owner, _iso(self.clock()), schedule.id, schedule.status, schedule.owner))
        if cur.rowcount == 0:
            return "taken"
        return "held" if late else "start"

    def too_late(self, schedule: Schedule, grace: dt.timedelta) -> str | None:
        """Why a due or interrupted schedule may no longer start unasked, or None if it may."""
        since = schedule.updated if schedule.status == SENDING else schedule.due
        if self.clock() - since <= grace:
            return None
        if schedule.status == SENDING:
            return f"stopped at {_local(since, schedule.timezone)} and not resumed within {_minutes(grace)}"
        return f"not started within {_minutes(grace)} of its time"

    def release(self, schedule_id: int, owner: str = "") -> Schedule:
        """The editor agrees to send a held (or failed) schedule now."""
        return self._move(schedule_id, (HELD, FAILED), SENDING, "released by the editor", "released", owner)

    @_translated
    def alive(self, schedule_id: int, owner: str) -> None:
        """The sender's sign of life (see ``heartbeat``)."""
        with db.transaction(self.conn):
            self.conn.execute("UPDATE schedules SET updated = ? WHERE id = ? AND owner = ?",
                              (_iso(self.clock()), schedule_id, owner))

    def stopped(self, schedule_id: int, note: str) -> None:
        """Sending stopped part way (a signal, a lock): still 'sending', for the next
        ``send --due`` to resume through the journal."""
        self._end(schedule_id, SENDING, note)

    def finish(self, schedule_id: int, ok: bool, note: str | None = None) -> None:
        self._end(schedule_id, SENT if ok else FAILED, note)

    def hold(self, schedule_id: int, note: str) -> None:
        self._end(schedule_id, HELD, note)

    @_translated
    def _end(self, schedule_id: int, status: str, note: str | None) -> None:
        with db.transaction(self.conn):
            self.conn.execute("UPDATE schedules SET status = ?, note = ?, owner = NULL, updated = ? WHERE id = ?",
                              (status, note, _iso(self.clock()), schedule_id))

    @_translated
    def _move(self, schedule_id: int, from_states: tuple[str, ...], to: str, note: str, verb: str,
              owner: str = "") -> Schedule:
        current = self.get(schedule_id)
        if current.status not in from_states:
            raise ScheduleError(f"scheduled send {schedule_id} is {current.status}; only a "
                                f"{', '.join(from_states[:-1])} or {from_states[-1]} one can be {verb}")
        with db.transaction(self.conn):
            cur = self.conn.execute(
                f"UPDATE schedules SET status = ?, note = ?, owner = ?, updated = ? WHERE id = ? AND status IN "
                f"({', '.join('?' * len(from_states))})",
                (to, note, owner or None, _iso(self.clock()), schedule_id, *from_states))
        if cur.rowcount == 0:  # changed by another process meanwhile
            raise ScheduleError(f"scheduled send {schedule_id} changed meanwhile; look again with `newsletter schedule`")
        return self.get(schedule_id)


class heartbeat:
    """``with heartbeat(path, schedule_id, owner):`` records a sign of life every ``every``
    seconds from a thread of its own (with its own connection) while the block sends, so that
    a crashed sender's schedule is resumed within the grace period of its last sign of life,
    not of when it started (a long campaign can take hours)."""

    def __init__(self, path: Path, schedule_id: int, owner: str, clock: Clock = _utcnow, every: float = 30.0):
        self.args, self.clock, self.every = (path, schedule_id, owner), clock, every
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, name="schedule-heartbeat", daemon=True)

    def _run(self) -> None:
        path, schedule_id, owner = self.args
        while not self.done.wait(self.every):
            try:
                with Schedules(path, self.clock) as schedules:
                    schedules.alive(schedule_id, owner)
            except NewsletterError as exc:   # a busy database: try again next time
                log.warning("scheduled send %s: could not record a sign of life: %s", schedule_id, exc)

    def __enter__(self) -> heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join()


def _gone(owner: str) -> bool:
    parsed = LeaseOwner.parse(owner)
    return parsed is not None and parsed.is_gone()


def _local(moment: dt.datetime, zone: str) -> str:
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def _minutes(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _schedule(row: sqlite3.Row) -> Schedule:
    return Schedule(row["id"], row["edition"], row["segment"],
                    tuple(l for l in row["languages"].split(",") if l), row["adapter"],
                    _from_iso(row["due"]), row["timezone"], row["status"], json.loads(row["options"]), row["note"],
                    _from_iso(row["updated"]), row["owner"])

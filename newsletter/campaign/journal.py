"""The send journal: what happened to every recipient of every campaign, in the workspace's
SQLite database, so that a campaign can be resumed after any interruption and nobody
recorded as sent is ever sent to again.

A campaign is an edition + a segment + an adapter. Each recipient has one row under
UNIQUE(campaign, subscriber), moving pending -> sending -> sent | failed-temporary |
failed-permanent | skipped. "sending" is committed *before* the message is handed to the
adapter and the outcome right after, each in its own transaction, so a crash can leave at
most the messages then in flight (one per connection) in "sending": those are *unknown*
(delivered or not, nobody can tell) and are not resent unless asked.

A lease on the campaign row keeps two processes from sending one campaign at once. It
expires unless renewed; a holder on this machine whose process is gone loses it at once,
so a campaign killed with SIGKILL can be resumed straight away.
"""
from __future__ import annotations

import logging
import os
import socket
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator

from newsletter.core import db
from newsletter.core.errors import DeliveryError

log = logging.getLogger(__name__)

PENDING, SENDING, SENT = "pending", "sending", "sent"
FAILED_TEMPORARY, FAILED_PERMANENT, SKIPPED = "failed-temporary", "failed-permanent", "skipped"
STATUSES = (PENDING, SENDING, SENT, FAILED_TEMPORARY, FAILED_PERMANENT, SKIPPED)
FINAL = (SENT, FAILED_PERMANENT, SKIPPED)
OPEN, PAUSED, FINISHED = "open", "paused", "finished"

MIGRATIONS = [
    """
    CREATE TABLE campaigns (
        id            INTEGER PRIMARY KEY,
        edition       TEXT NOT NULL,
        segment       TEXT NOT NULL,
        adapter       TEXT NOT NULL,
        created       TEXT NOT NULL,
        updated       TEXT NOT NULL,
        status        TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'paused', 'finished')),
        note          TEXT,
        lease_owner   TEXT,
        lease_expires REAL
    );
    CREATE INDEX campaigns_by_name ON campaigns (edition, segment, adapter);
    CREATE TABLE campaign_recipients (
        campaign   INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
        subscriber TEXT NOT NULL,
        email      TEXT NOT NULL,
        variant    TEXT NOT NULL,
        status     TEXT NOT NULL DEFAULT 'pending' CHECK (status IN
                   ('pending', 'sending', 'sent', 'failed-temporary', 'failed-permanent', 'skipped')),
        attempts   INTEGER NOT NULL DEFAULT 0,
        reply      TEXT,
        updated    TEXT NOT NULL,
        UNIQUE (campaign, subscriber)
    );
    CREATE INDEX campaign_recipients_by_status ON campaign_recipients (campaign, status);
    """,
    # The id a sending service gave the message (SES's MessageId): its bounce and complaint
    # notifications name it, and this finds the recipient again.
    """
    ALTER TABLE campaign_recipients ADD COLUMN provider_message_id TEXT;
    CREATE INDEX campaign_recipients_by_provider_id ON campaign_recipients (provider_message_id)
        WHERE provider_message_id IS NOT NULL;
    """,
]


class CampaignLocked(DeliveryError):
    """Another process is sending this campaign right now."""

    exit_code = 3


@dataclass(frozen=True)
class Campaign:
    id: int
    edition: str
    segment: str
    adapter: str
    created: str
    updated: str
    status: str
    note: str | None
    lease_owner: str | None
    lease_expires: float | None

    @property
    def name(self) -> str:
        return f"campaign {self.id} ({self.edition}, segment {self.segment}, {self.adapter})"


@dataclass(frozen=True)
class JournalRow:
    subscriber: str
    email: str
    variant: str
    status: str
    attempts: int
    reply: str | None
    updated: str


@dataclass(frozen=True)
class LeaseOwner:
    """Who holds a lease: host, process id and its start time (so a reused pid is not taken
    for the old process), plus a nonce per runner."""

    host: str
    pid: int
    started: str
    nonce: str

    @classmethod
    def this_process(cls) -> LeaseOwner:
        return cls(socket.gethostname(), os.getpid(), _process_start(os.getpid()) or "", uuid.uuid4().hex[:12])

    @classmethod
    def parse(cls, text: str) -> LeaseOwner | None:
        parts = text.split(" ")
        if len(parts) != 4 or not parts[1].isdigit():
            return None
        return cls(parts[0], int(parts[1]), parts[2], parts[3])

    def __str__(self) -> str:
        return f"{self.host} {self.pid} {self.started or '-'} {self.nonce}"

    def is_gone(self) -> bool:
        """True only when certain: a process on this machine that no longer runs."""
        if self.host != socket.gethostname():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        started = _process_start(self.pid)
        return bool(started and self.started not in ("", "-") and started != self.started)


def _process_start(pid: int) -> str | None:
    """The process start time in clock ticks since boot (Linux), or None elsewhere."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


_clock_text: tuple[int, str] = (-1, "")


def _now() -> str:
    """The time in UTC to the second, as the journal stores it. Every message writes it twice;
    formatting it once per second instead of each time saves a few per cent of a send."""
    global _clock_text
    second = int(time.time())
    if _clock_text[0] != second:
        _clock_text = (second, datetime.fromtimestamp(second, timezone.utc).isoformat(timespec="seconds"))
    return _clock_text[1]


class Journal:
    """The journal in one SQLite file. Each thread gets its own connection (SQLite
    connections must not be shared between threads); ``close`` closes the calling thread's."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._local = threading.local()
        db.migrate(self.conn(), "journal", MIGRATIONS)

    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = db.connect(self.path)
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def _write(self, sql: str, params: tuple = ()) -> sqlite3.Cursor:
        """One statement in its own committed transaction."""
        conn = self.conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            cur = conn.execute(sql, params)
            conn.execute("COMMIT")
            return cur
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    # -- campaigns -----------------------------------------------------------------------

    def create_campaign(self, edition: str, segment: str, adapter: str) -> Campaign:
        now = _now()
        cur = self._write("INSERT INTO campaigns (edition, segment, adapter, created, updated) "
                          "VALUES (?, ?, ?, ?, ?)", (edition, segment, adapter, now, now))
        return self.campaign(cur.lastrowid)

    def campaign_for(self, edition: str, segment: str, adapter: str) -> Campaign:
        """The campaign of this edition, segment and adapter, created if there is none yet.
        Finished ones count too: sending an edition again must resume it, not start over.
        Atomic, so two processes started together end up with the same campaign."""
        conn = self.conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            found = self.find_campaign(edition, segment, adapter)
            if found is None:
                now = _now()
                conn.execute("INSERT INTO campaigns (edition, segment, adapter, created, updated) "
                             "VALUES (?, ?, ?, ?, ?)", (edition, segment, adapter, now, now))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return found or self.find_campaign(edition, segment, adapter)  # type: ignore[return-value]

    def find_campaign(self, edition: str, segment: str, adapter: str) -> Campaign | None:
        """The latest campaign of this edition, segment and adapter, finished or not."""
        row = self.conn().execute(
            "SELECT * FROM campaigns WHERE edition = ? AND segment = ? AND adapter = ? "
            "ORDER BY id DESC LIMIT 1", (edition, segment, adapter)).fetchone()
        return Campaign(**dict(row)) if row else None

    def campaign(self, campaign_id: int) -> Campaign:
        row = self.conn().execute("SELECT * FROM campaigns WHERE id = ?", (campaign_id,)).fetchone()
        if row is None:
            raise DeliveryError(f"there is no campaign {campaign_id}; `newsletter campaigns` lists them")
        return Campaign(**dict(row))

    def campaigns(self) -> list[Campaign]:
        return [Campaign(**dict(r)) for r in self.conn().execute("SELECT * FROM campaigns ORDER BY id")]

    def set_status(self, campaign_id: int, status: str, note: str | None = None) -> None:
        self._write("UPDATE campaigns SET status = ?, note = ?, updated = ? WHERE id = ?",
                    (status, note, _now(), campaign_id))

    def counts(self, campaign_id: int) -> dict[str, int]:
        """Recipients per status, every status present (0 when none)."""
        rows = self.conn().execute("SELECT status, COUNT(*) FROM campaign_recipients "
                                   "WHERE campaign = ? GROUP BY status", (campaign_id,))
        return {**dict.fromkeys(STATUSES, 0), **dict(rows.fetchall())}

    def pages(self, campaign_id: int, *statuses: str, size: int = 500) -> Iterator[list[JournalRow]]:
        """The rows with these statuses, ``size`` at a time in journal order, each page read
        fresh, so that a campaign of any size is walked in constant memory while it changes."""
        sql = ("SELECT rowid, subscriber, email, variant, status, attempts, reply, updated "
               "FROM campaign_recipients WHERE campaign = ? AND rowid > ?")
        if statuses:
            sql += f" AND status IN ({', '.join('?' * len(statuses))})"
        sql += " ORDER BY rowid LIMIT ?"
        last = 0
        while True:
            found = self.conn().execute(sql, (campaign_id, last, *statuses, size)).fetchall()
            if not found:
                return
            last = found[-1]["rowid"]
            yield [JournalRow(**{k: r[k] for k in r.keys() if k != "rowid"}) for r in found]

    def emails(self, campaign_id: int, *statuses: str) -> set[str]:
        """The lower-cased addresses of the rows with these statuses."""
        sql = (f"SELECT lower(email) FROM campaign_recipients WHERE campaign = ? "
               f"AND status IN ({', '.join('?' * len(statuses))})")
        return {row[0] for row in self.conn().execute(sql, (campaign_id, *statuses))}

    def rows(self, campaign_id: int, *statuses: str) -> list[JournalRow]:
        sql = "SELECT subscriber, email, variant, status, attempts, reply, updated FROM campaign_recipients WHERE campaign = ?"
        params: tuple = (campaign_id,)
        if statuses:
            sql += f" AND status IN ({', '.join('?' * len(statuses))})"
            params += statuses
        return [JournalRow(**dict(r)) for r in self.conn().execute(sql + " ORDER BY rowid", params)]

    # -- the lease -------------------------------------------------------------------------

    def acquire(self, campaign_id: int, owner: LeaseOwner, seconds: float) -> None:
        """Take the campaign for ``seconds``, or raise CampaignLocked naming the holder."""
        conn = self.conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute("SELECT lease_owner, lease_expires FROM campaigns WHERE id = ?",
                               (campaign_id,)).fetchone()
            if row is None:
                raise DeliveryError(f"there is no campaign {campaign_id}")
            self._refuse_if_held(campaign_id, row["lease_owner"], row["lease_expires"], owner)
            conn.execute("UPDATE campaigns SET lease_owner = ?, lease_expires = ? WHERE id = ?",
                         (str(owner), time.time() + seconds, campaign_id))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    @staticmethod
    def _refuse_if_held(campaign_id: int, holder_text: str | None, expires: float | None,
                        owner: LeaseOwner) -> None:
        if not holder_text or holder_text == str(owner) or (expires or 0) <= time.time():
            return
        holder = LeaseOwner.parse(holder_text)
        if holder is not None and holder.is_gone():
            log.warning("campaign %s: taking over from process %s on %s, which is gone",
                        campaign_id, holder.pid, holder.host)
            return
        who = f"process {holder.pid} on {holder.host}" if holder else holder_text
        until = datetime.fromtimestamp(expires or 0).strftime("%H:%M:%S")
        raise CampaignLocked(
            f"campaign {campaign_id} is being sent by another process ({who}); wait for it to "
            f"finish. If that process has died on another machine, its lock expires at {until}.")

    def renew(self, campaign_id: int, owner: LeaseOwner, seconds: float) -> bool:
        """Extend the lease; False if it is no longer ours."""
        cur = self._write("UPDATE campaigns SET lease_expires = ? WHERE id = ? AND lease_owner = ?",
                          (time.time() + seconds, campaign_id, str(owner)))
        return cur.rowcount == 1

    def release(self, campaign_id: int, owner: LeaseOwner) -> None:
        self._write("UPDATE campaigns SET lease_owner = NULL, lease_expires = NULL "
                    "WHERE id = ? AND lease_owner = ?", (campaign_id, str(owner)))

    # -- recipients ------------------------------------------------------------------------

    def enqueue(self, campaign_id: int, recipients: Iterable[tuple[str, str, str]]) -> int:
        """Add (subscriber, email, variant) rows as pending; rows already there are kept as
        they are. Returns how many were new."""
        conn = self.conn()
        now = _now()
        conn.execute("BEGIN IMMEDIATE")
        try:
            before = conn.total_changes
            conn.executemany(
                "INSERT OR IGNORE INTO campaign_recipients (campaign, subscriber, email, variant, updated) "
                "VALUES (?, ?, ?, ?, ?)", ((campaign_id, s, e, v, now) for s, e, v in recipients))
            added = conn.total_changes - before
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return added

    def claim(self, campaign_id: int, subscriber: str, email: str, resend_unknown: bool = False) -> bool:
        """Mark a recipient "sending" (committed before the message goes out). False if its
        row is not in a state that may be sent (already sent, or skipped)."""
        allowed = (PENDING, FAILED_TEMPORARY, SENDING) if resend_unknown else (PENDING, FAILED_TEMPORARY)
        cur = self._write(
            "UPDATE campaign_recipients SET status = 'sending', attempts = attempts + 1, email = ?, "
            f"updated = ? WHERE campaign = ? AND subscriber = ? AND status IN ({', '.join('?' * len(allowed))})",
            (email, _now(), campaign_id, subscriber, *allowed))
        return cur.rowcount == 1

    def record(self, campaign_id: int, subscriber: str, status: str, reply: str | None,
               provider_message_id: str | None = None) -> None:
        if status not in STATUSES:
            raise ValueError(f"unknown journal status {status!r}")
        self._write("UPDATE campaign_recipients SET status = ?, reply = ?, updated = ?, "
                    "provider_message_id = COALESCE(?, provider_message_id) "
                    "WHERE campaign = ? AND subscriber = ?",
                    (status, reply, _now(), provider_message_id, campaign_id, subscriber))

    def by_provider_message_id(self, message_id: str) -> tuple[int, str, str] | None:
        """(campaign, subscriber, email) of the message a sending service knows as ``message_id``."""
        row = self.conn().execute(
            "SELECT campaign, subscriber, email FROM campaign_recipients WHERE provider_message_id = ?",
            (message_id,)).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def unclaim(self, campaign_id: int, subscriber: str, reply: str) -> None:
        """Back to pending: the claim was made but the message was certainly not handed over."""
        self._write("UPDATE campaign_recipients SET status = 'pending', attempts = attempts - 1, "
                    "reply = ?, updated = ? WHERE campaign = ? AND subscriber = ? AND status = 'sending'",
                    (reply, _now(), campaign_id, subscriber))

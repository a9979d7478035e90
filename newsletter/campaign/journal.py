"""The send journal: what happened to every recipient of every campaign, in the workspace's
SQLite database, so that a campaign can be resumed after any interruption and nobody
recorded as sent is ever sent to again.

A campaign is an edition + a segment + an adapter, and the languages it is limited to when an
edition goes out language by language (``send --lang en,de``: a *wave*; '' = every language).
A wave is a campaign of its own, so it is complete when its languages are, and says nothing
about the others; the edition-once rule below keeps waves from reaching anyone twice. Each recipient has one row under
UNIQUE(campaign, subscriber), moving through the ``RecipientState``s pending -> sending ->
sent | failed-temporary | failed-permanent | skipped. "sending" is committed *before* the
message is handed to the adapter and the outcome right after, so a crash can leave at most the
messages then in flight (one per connection) in "sending": those are *unknown* (delivered or
not, nobody can tell) and are not resent unless asked.

Each edition reaches a person at most once across campaigns: a claim is refused when another
campaign of the edition whose adapter leaves the machine (not a rehearsal through the outbox or
the console) has that subscriber or address as sent or sending. The check and the claim are
one write transaction, so two campaigns running at once cannot both claim one person.

Durability: a claim is committed with ``synchronous = FULL`` (the write-ahead log is synced
to disk) before its message goes out, and that sync also makes every outcome recorded before
it durable; the other writes use NORMAL, durable against a crash of the process. So an
operating-system crash or power loss can at most turn the last outcomes (one per connection)
back into "sending" (unknown, listed, not resent), never a claim back into "pending" (which
would send again). ``GroupCommit`` lets one sync serve the claims of several connections;
``make bench`` measures the cost. ``delivery.journal_sync: normal`` skips the claims' sync.

A lease on the campaign row keeps two processes from sending one campaign at once. It
expires unless renewed; a holder on this machine whose process is gone loses it at once,
so a campaign killed with SIGKILL can be resumed straight away.
"""
from __future__ import annotations

import functools
import inspect
import logging
import os
import queue
import socket
import sqlite3
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Any, Callable, Iterable, Iterator, Sequence, TypeVar

from newsletter.core import db
from newsletter.core.errors import DeliveryError
from newsletter.delivery.states import RecipientState

log = logging.getLogger(__name__)
State = RecipientState
# The same states under the names code written before RecipientState imports from here.
PENDING, SENDING, SENT = State.PENDING, State.SENDING, State.SENT
FAILED_TEMPORARY, FAILED_PERMANENT, SKIPPED = State.FAILED_TEMPORARY, State.FAILED_PERMANENT, State.SKIPPED
FINAL = (State.SENT, State.FAILED_PERMANENT, State.SKIPPED)
# Who may have the edition already: sent, or unknown (possibly delivered).
RECEIVED = (State.SENT, State.SENDING)


class CampaignStatus(StrEnum):
    OPEN = "open"
    PAUSED = "paused"
    FINISHED = "finished"


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
    # Each edition once per person: which campaigns reach people (not outbox/console
    # rehearsals), and lookups of a person's rows across campaigns.
    """
    ALTER TABLE campaigns ADD COLUMN delivers INTEGER NOT NULL DEFAULT 1;
    UPDATE campaigns SET delivers = 0 WHERE adapter IN ('outbox', 'console');
    CREATE INDEX campaign_recipients_by_subscriber ON campaign_recipients (subscriber);
    CREATE INDEX campaign_recipients_by_email ON campaign_recipients (lower(email));
    """,
    # Waves: a campaign limited to some of the edition's languages ('' = all of them).
    """
    ALTER TABLE campaigns ADD COLUMN languages TEXT NOT NULL DEFAULT '';
    """,
]

F = TypeVar("F", bound=Callable[..., Any])


def _translated(method: F) -> F:
    """SQLite's errors leave the journal as the project's own (db.translate): a full disk, a
    lock held too long or a damaged file, each said plainly and naming the file."""
    if inspect.isgeneratorfunction(method):
        @functools.wraps(method)
        def generator(self: Journal, *args: Any, **kwargs: Any) -> Any:
            try:
                yield from method(self, *args, **kwargs)
            except sqlite3.Error as exc:
                raise db.translate(exc, self.path) from exc
        return generator  # type: ignore[return-value]

    @functools.wraps(method)
    def wrapper(self: Journal, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise db.translate(exc, self.path) from exc
    return wrapper  # type: ignore[return-value]


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
    delivers: int = 1
    languages: str = ""     # comma-separated; '' = every language of the edition

    @property
    def name(self) -> str:
        wave = f", languages {self.languages}" if self.languages else ""
        return f"campaign {self.id} ({self.edition}, segment {self.segment}{wave}, {self.adapter})"


@dataclass(frozen=True)
class JournalRow:
    subscriber: str
    email: str
    variant: str
    status: RecipientState
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
    """The journal in one SQLite file; ``with Journal(path) as journal:`` closes it after.
    Each thread gets its own connection (SQLite connections must not be shared between
    threads); ``close`` closes the calling thread's."""

    def __init__(self, path: Path | str, *, sync_claims: bool = True):
        """``sync_claims=False`` (``delivery.journal_sync: normal``) skips the sync of claims:
        faster where syncing is slow, but safe against a crash of the process only."""
        self.path = Path(path)
        self.sync_claims = sync_claims
        self._local = threading.local()
        try:
            db.migrate(self.conn(), "journal", MIGRATIONS)
        except sqlite3.Error as exc:
            raise db.translate(exc, self.path) from exc

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = db.connect(self.path)   # synchronous = NORMAL
        return conn

    @contextmanager
    def _durable(self) -> Iterator[sqlite3.Connection]:
        """A write transaction synced to disk at commit (see the module documentation)."""
        conn = self.conn()
        if not self.sync_claims:
            with db.transaction(conn):
                yield conn
            return
        conn.execute("PRAGMA synchronous = FULL")
        try:
            with db.transaction(conn):
                yield conn
        finally:
            if not conn.in_transaction:
                conn.execute("PRAGMA synchronous = NORMAL")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def _write(self, sql: str, params: tuple = ()) -> sqlite3.Cursor:
        """One statement in its own committed transaction."""
        with db.transaction(self.conn()) as conn:
            return conn.execute(sql, params)

    # -- campaigns -----------------------------------------------------------------------

    @_translated
    def create_campaign(self, edition: str, segment: str, adapter: str, *, delivers: bool = True,
                        languages: Sequence[str] = ()) -> Campaign:
        now = _now()
        cur = self._write("INSERT INTO campaigns (edition, segment, adapter, created, updated, delivers, languages) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?)",
                          (edition, segment, adapter, now, now, int(delivers), ",".join(languages)))
        return self.campaign(cur.lastrowid)

    @_translated
    def campaign_for(self, edition: str, segment: str, adapter: str, *, delivers: bool = True,
                     new: bool = False, languages: Sequence[str] = ()) -> Campaign:
        """The campaign of this edition, segment, adapter and wave (``languages``), created if
        there is none yet (or if ``new`` and the latest is finished: a deliberate second send).
        Finished ones count too: sending an edition again must resume it, not start over.
        Atomic, so two processes started together end up with the same campaign."""
        with db.transaction(self.conn()) as conn:
            found = self.find_campaign(edition, segment, adapter, languages)
            if found is None or (new and found.status == CampaignStatus.FINISHED):
                now = _now()
                conn.execute("INSERT INTO campaigns (edition, segment, adapter, created, updated, delivers, languages) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (edition, segment, adapter, now, now, int(delivers), ",".join(languages)))
                found = None
        return found or self.find_campaign(edition, segment, adapter, languages)  # type: ignore[return-value]

    @_translated
    def find_campaign(self, edition: str, segment: str, adapter: str,
                      languages: Sequence[str] = ()) -> Campaign | None:
        """The latest campaign of this edition, segment, adapter and wave, finished or not."""
        row = self.conn().execute(
            "SELECT * FROM campaigns WHERE edition = ? AND segment = ? AND adapter = ? AND languages = ? "
            "ORDER BY id DESC LIMIT 1", (edition, segment, adapter, ",".join(languages))).fetchone()
        return Campaign(**dict(row)) if row else None

    @_translated
    def campaign(self, campaign_id: int) -> Campaign:
        row = self.conn().execute("SELECT * FROM campaigns WHERE id = ?", (campaign_id,)).fetchone()
        if row is None:
            raise DeliveryError(f"there is no campaign {campaign_id}; `newsletter campaigns` lists them")
        return Campaign(**dict(row))

    @_translated
    def campaigns(self) -> list[Campaign]:
        return [Campaign(**dict(r)) for r in self.conn().execute("SELECT * FROM campaigns ORDER BY id")]

    @_translated
    def set_status(self, campaign_id: int, status: CampaignStatus, note: str | None = None) -> None:
        self._write("UPDATE campaigns SET status = ?, note = ?, updated = ? WHERE id = ?",
                    (str(status), note, _now(), campaign_id))

    @_translated
    def counts(self, campaign_id: int) -> dict[RecipientState, int]:
        """Recipients per state, every state present (0 when none)."""
        rows = self.conn().execute("SELECT status, COUNT(*) FROM campaign_recipients "
                                   "WHERE campaign = ? GROUP BY status", (campaign_id,))
        found = {RecipientState(k): v for k, v in rows.fetchall()}
        return {state: found.get(state, 0) for state in RecipientState}

    @_translated
    def pages(self, campaign_id: int, *statuses: RecipientState, size: int = 500) -> Iterator[list[JournalRow]]:
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
            yield [_row(r) for r in found]

    @_translated
    def emails(self, campaign_id: int, *statuses: RecipientState) -> set[str]:
        """The lower-cased addresses of the rows with these statuses."""
        sql = (f"SELECT lower(email) FROM campaign_recipients WHERE campaign = ? "
               f"AND status IN ({', '.join('?' * len(statuses))})")
        return {row[0] for row in self.conn().execute(sql, (campaign_id, *statuses))}

    @_translated
    def subscribers(self, campaign_id: int) -> set[str]:
        """Every subscriber id the campaign has a row for."""
        rows = self.conn().execute("SELECT subscriber FROM campaign_recipients WHERE campaign = ?", (campaign_id,))
        return {row[0] for row in rows}

    @_translated
    def rows(self, campaign_id: int, *statuses: RecipientState) -> list[JournalRow]:
        sql = "SELECT subscriber, email, variant, status, attempts, reply, updated FROM campaign_recipients WHERE campaign = ?"
        params: tuple = (campaign_id,)
        if statuses:
            sql += f" AND status IN ({', '.join('?' * len(statuses))})"
            params += statuses
        return [_row(r) for r in self.conn().execute(sql + " ORDER BY rowid", params)]

    @_translated
    def received_elsewhere(self, edition: str, campaign_id: int | None) -> tuple[set[str], set[str]]:
        """(subscriber ids, lower-cased addresses) that have ``edition`` from a campaign other
        than ``campaign_id`` that reaches people: sent, or unknown (perhaps delivered)."""
        rows = self.conn().execute(
            "SELECT r.subscriber, lower(r.email) FROM campaign_recipients r JOIN campaigns c ON c.id = r.campaign "
            f"WHERE c.edition = ? AND c.delivers AND c.id IS NOT ? AND r.status IN ({', '.join('?' * len(RECEIVED))})",
            (edition, campaign_id, *RECEIVED))
        ids: set[str] = set()
        emails: set[str] = set()
        for sid, email in rows:
            ids.add(sid)
            emails.add(email)
        return ids, emails

    # -- the lease -------------------------------------------------------------------------

    @_translated
    def acquire(self, campaign_id: int, owner: LeaseOwner, seconds: float) -> None:
        """Take the campaign for ``seconds``, or raise CampaignLocked naming the holder."""
        with db.transaction(self.conn()) as conn:
            row = conn.execute("SELECT lease_owner, lease_expires FROM campaigns WHERE id = ?",
                               (campaign_id,)).fetchone()
            if row is None:
                raise DeliveryError(f"there is no campaign {campaign_id}")
            self._refuse_if_held(campaign_id, row["lease_owner"], row["lease_expires"], owner)
            conn.execute("UPDATE campaigns SET lease_owner = ?, lease_expires = ? WHERE id = ?",
                         (str(owner), time.time() + seconds, campaign_id))

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

    @_translated
    def renew(self, campaign_id: int, owner: LeaseOwner, seconds: float) -> bool:
        """Extend the lease; False if it is no longer ours."""
        cur = self._write("UPDATE campaigns SET lease_expires = ? WHERE id = ? AND lease_owner = ?",
                          (time.time() + seconds, campaign_id, str(owner)))
        return cur.rowcount == 1

    @_translated
    def release(self, campaign_id: int, owner: LeaseOwner) -> None:
        self._write("UPDATE campaigns SET lease_owner = NULL, lease_expires = NULL "
                    "WHERE id = ? AND lease_owner = ?", (campaign_id, str(owner)))

    # -- recipients ------------------------------------------------------------------------

    @_translated
    def enqueue(self, campaign_id: int, recipients: Iterable[tuple[str, str, str]]) -> int:
        """Add (subscriber, email, variant) rows as pending; rows already there are kept as
        they are. Returns how many were new."""
        now = _now()
        with db.transaction(self.conn()) as conn:
            before = conn.total_changes
            conn.executemany(
                "INSERT OR IGNORE INTO campaign_recipients (campaign, subscriber, email, variant, updated) "
                "VALUES (?, ?, ?, ?, ?)", ((campaign_id, s, e, v, now) for s, e, v in recipients))
            return conn.total_changes - before

    @_translated
    def claim(self, campaign_id: int, subscriber: str, email: str, resend_unknown: bool = False,
              *, variant: str | None = None, edition: str | None = None) -> Claim:
        """Mark a recipient "sending" (committed before the message goes out).

        Refused (``Claim.TAKEN``) if its row is not in a state that may be sent (already sent,
        or skipped). Given ``edition``, refused (``Claim.RECEIVED``, and the row is skipped) when
        another campaign of that edition reaching people has this subscriber or address as sent
        or sending: checked inside the same write transaction, so that two campaigns running at
        once never both claim one person."""
        with self._durable() as conn:
            return self._claim_in(conn, campaign_id, subscriber, email, resend_unknown,
                                  variant=variant, edition=edition)

    def _claim_in(self, conn: sqlite3.Connection, campaign_id: int, subscriber: str, email: str,
                  resend_unknown: bool = False, *, variant: str | None = None, edition: str | None = None) -> Claim:
        allowed = (State.PENDING, State.FAILED_TEMPORARY, State.SENDING) if resend_unknown else (State.PENDING, State.FAILED_TEMPORARY)
        now = _now()
        if edition is not None and self._has_edition(conn, edition, campaign_id, subscriber, email):
            conn.execute("UPDATE campaign_recipients SET status = 'skipped', reply = ?, updated = ? "
                         f"WHERE campaign = ? AND subscriber = ? AND status IN ({', '.join('?' * len(allowed))})",
                         (f"already received {edition} in another campaign", now, campaign_id, subscriber, *allowed))
            return Claim.RECEIVED
        cur = conn.execute(
            "UPDATE campaign_recipients SET status = 'sending', attempts = attempts + 1, email = ?, "
            f"variant = coalesce(?, variant), updated = ? WHERE campaign = ? AND subscriber = ? "
            f"AND status IN ({', '.join('?' * len(allowed))})",
            (email, variant, now, campaign_id, subscriber, *allowed))
        return Claim.CLAIMED if cur.rowcount == 1 else Claim.TAKEN

    @staticmethod
    def _has_edition(conn: sqlite3.Connection, edition: str, campaign_id: int, subscriber: str, email: str) -> bool:
        marks = ", ".join("?" * len(RECEIVED))
        others = "SELECT id FROM campaigns WHERE edition = ? AND delivers AND id != ?"
        found = conn.execute(
            f"SELECT 1 FROM campaign_recipients WHERE subscriber = ? AND status IN ({marks}) AND campaign IN ({others}) "
            f"UNION ALL SELECT 1 FROM campaign_recipients WHERE lower(email) = lower(?) AND status IN ({marks}) "
            f"AND campaign IN ({others}) LIMIT 1",
            (subscriber, *RECEIVED, edition, campaign_id, email, *RECEIVED, edition, campaign_id)).fetchone()
        return found is not None

    @_translated
    def by_provider_message_id(self, message_id: str) -> tuple[int, str, str] | None:
        """(campaign, subscriber, email) of the message a sending service knows as ``message_id``."""
        row = self.conn().execute(
            "SELECT campaign, subscriber, email FROM campaign_recipients WHERE provider_message_id = ?",
            (message_id,)).fetchone()
        return (row[0], row[1], row[2]) if row else None

    @_translated
    def record(self, campaign_id: int, subscriber: str, status: RecipientState, reply: str | None,
               provider_message_id: str | None = None) -> None:
        with db.transaction(self.conn()) as conn:
            self._record_in(conn, campaign_id, subscriber, status, reply, provider_message_id)

    @staticmethod
    def _record_in(conn: sqlite3.Connection, campaign_id: int, subscriber: str, status: RecipientState,
                   reply: str | None, provider_message_id: str | None = None) -> None:
        conn.execute("UPDATE campaign_recipients SET status = ?, reply = ?, updated = ?, "
                     "provider_message_id = COALESCE(?, provider_message_id) WHERE campaign = ? AND subscriber = ?",
                     (str(RecipientState(status)), reply, _now(), provider_message_id, campaign_id, subscriber))

    @_translated
    def unclaim(self, campaign_id: int, subscriber: str, reply: str) -> None:
        """Back to pending: the claim was made but the message was certainly not handed over."""
        with db.transaction(self.conn()) as conn:
            self._unclaim_in(conn, campaign_id, subscriber, reply)

    @staticmethod
    def _unclaim_in(conn: sqlite3.Connection, campaign_id: int, subscriber: str, reply: str) -> None:
        conn.execute("UPDATE campaign_recipients SET status = 'pending', attempts = attempts - 1, "
                     "reply = ?, updated = ? WHERE campaign = ? AND subscriber = ? AND status = 'sending'",
                     (reply, _now(), campaign_id, subscriber))


class GroupCommit:
    """One writer thread for a run's claims and outcomes: what the workers hand it while a
    commit is under way goes into the next transaction together, so one sync to disk (a
    claim's ``synchronous = FULL``) serves several messages, and one message's outcome is
    committed with the next claim. ``claim`` waits for its commit (nothing goes out before
    its claim is on disk); ``record`` and ``unclaim`` do not, and are committed in the order
    they were handed over, before anything handed over after them. ``flush`` waits for all.
    A failed commit (a full disk) is raised to every caller waiting on it and to the next."""

    BATCH = 256

    def __init__(self, journal: Journal):
        self.journal = journal
        self._queue: queue.SimpleQueue[_Op | None] = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="journal-writer", daemon=True)
        self._thread.start()

    def claim(self, campaign_id: int, subscriber: str, email: str, resend_unknown: bool = False,
              *, variant: str | None = None, edition: str | None = None) -> Claim:
        op = _Op(self.journal._claim_in, (campaign_id, subscriber, email, resend_unknown),
                 {"variant": variant, "edition": edition}, durable=True)
        return self._wait(op)

    def record(self, campaign_id: int, subscriber: str, status: RecipientState, reply: str | None,
               provider_message_id: str | None = None) -> None:
        self._hand_over(_Op(self.journal._record_in, (campaign_id, subscriber, status, reply, provider_message_id)))

    def unclaim(self, campaign_id: int, subscriber: str, reply: str) -> None:
        self._hand_over(_Op(self.journal._unclaim_in, (campaign_id, subscriber, reply)))

    def flush(self) -> None:
        self._wait(_Op(None, ()))

    def close(self) -> None:
        """Commit what is left and stop the writer. A failed commit was raised to the callers
        then; what it held stays as it was in the journal (a claimed recipient: unknown)."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def _hand_over(self, op: _Op) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(op)

    def _wait(self, op: _Op) -> Any:
        op.done = threading.Event()
        self._hand_over(op)
        op.done.wait()
        if op.error is not None:
            raise op.error
        return op.result

    def _run(self) -> None:
        try:
            running = True
            while running:
                first = self._queue.get()
                if first is None:
                    break
                batch = [first]
                while len(batch) < self.BATCH:
                    try:
                        op = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if op is None:
                        running = False
                        break
                    batch.append(op)
                self._commit(batch)
        finally:
            self.journal.close()

    def _commit(self, batch: list[_Op]) -> None:
        work = [op for op in batch if op.call is not None]
        try:
            if work:
                durable = any(op.durable for op in work)
                with (self.journal._durable() if durable else db.transaction(self.journal.conn())) as conn:
                    for op in work:
                        op.result = op.call(conn, *op.args, **op.kwargs)
        except sqlite3.Error as exc:
            self._error = db.translate(exc, self.journal.path)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting callers
            self._error = exc
        for op in batch:
            if op.call is not None:
                op.error = self._error
            if op.done is not None:
                op.done.set()


@dataclass(eq=False)
class _Op:
    call: Callable[..., Any] | None     # None: a flush, nothing to write
    args: tuple
    kwargs: dict = field(default_factory=dict)
    durable: bool = False
    done: threading.Event | None = None
    result: Any = None
    error: BaseException | None = None


class Claim(StrEnum):
    CLAIMED = "claimed"
    TAKEN = "taken"          # already sent, skipped or in flight: by this campaign's rows
    RECEIVED = "received"    # the person has this edition from another campaign

    def __bool__(self) -> bool:
        return self is Claim.CLAIMED


def _row(r: sqlite3.Row) -> JournalRow:
    return JournalRow(r["subscriber"], r["email"], r["variant"], RecipientState(r["status"]),
                      r["attempts"], r["reply"], r["updated"])

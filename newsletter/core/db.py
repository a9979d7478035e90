"""The embedded SQLite store: one connection setup and versioned migrations per component.

Each component (subscribers, journal, ...) keeps its own ordered list of migration scripts;
``schema_version`` records how far each has been applied. Callers never write SQL against
another component's tables, so a PostgreSQL backend can replace one component at a time.
"""
from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path
from contextlib import contextmanager
from typing import Iterator, Sequence

from newsletter.core.errors import DatabaseCorrupt, DatabaseError, DatabaseLocked, DiskFull

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000


def connect(path: Path | str, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection in WAL mode with a busy timeout; rows as sqlite3.Row; autocommit off."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    uri = f"file:{path}?mode=ro" if readonly else str(path)
    conn = sqlite3.connect(uri, uri=readonly, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    if not readonly:
        if str(path) != ":memory:":  # an in-memory database has no WAL
            _use_wal(conn, path)
        # NORMAL is durable across process crashes in WAL mode (only an OS crash can lose
        # the last transactions), which is what a send journal needs.
        conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def _use_wal(conn: sqlite3.Connection, path: Path | str) -> None:
    """Switch the file to WAL mode. Two processes opening a new file at once race for this,
    and SQLite answers "database is locked" at once, without calling the busy handler, so
    retry here for up to the busy timeout. WAL mode is kept in the file: once set, this is a
    read that never waits. Where WAL is impossible, SQLite's rollback journal is kept."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    delay = 0.005
    while True:
        try:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        else:
            if mode.lower() != "wal":
                # Some file systems (network shares) cannot do WAL; SQLite then keeps its
                # rollback journal, which is slower with several processes but still safe.
                log.warning("%s: SQLite cannot use WAL mode here (it uses %s); is the workspace "
                            "on a network share?", path, mode)
            return
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``with transaction(conn):`` runs the block in one write transaction (BEGIN IMMEDIATE, so
    the write lock is taken at once and waits up to the busy timeout), committed at the end and
    rolled back on any exception. The rollback only happens while a transaction is open:
    SQLite may already have rolled back by itself (a full disk), and a second ROLLBACK would
    hide the real error behind "cannot rollback - no transaction is active"."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def translate(exc: sqlite3.Error, path: Path | str) -> DatabaseError:
    """SQLite's error as the project's own, saying what happened to which file and what to do."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc)
    if name.startswith("SQLITE_FULL") or "disk is full" in text:
        return DiskFull(f"the disk holding {path} is full ({text}). Free some space, then run the "
                        "same command again: everything already recorded is kept")
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in text:
        return DatabaseLocked(f"the database {path} is locked by another process (waited "
                              f"{BUSY_TIMEOUT_MS // 1000} s); try again when it has finished")
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in text or "not a database" in text:
        return DatabaseCorrupt(
            f"the database {path} is damaged ({text}). Keep a copy of it, then recover what it holds "
            f"with `sqlite3 {path} .recover | sqlite3 {path}.recovered` and put {path}.recovered in its "
            "place, or restore it from your backup")
    return DatabaseError(f"the database {path} failed: {text}")


@contextmanager
def translated(path: Path | str) -> Iterator[None]:
    """``with translated(path):`` turns any SQLite error in the block into a DatabaseError."""
    try:
        yield
    except sqlite3.Error as exc:
        raise translate(exc, path) from exc


def migrate(conn: sqlite3.Connection, component: str, migrations: Sequence[str]) -> int:
    """Apply the scripts of ``component`` not yet applied, each in its own transaction.
    Returns the schema version reached. Scripts are append-only: never edit a released one."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_version (component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
    )
    row = conn.execute("SELECT version FROM schema_version WHERE component = ?", (component,)).fetchone()
    current = row[0] if row else 0
    for version, script in enumerate(migrations[current:], start=current + 1):
        with transaction(conn):
            # Re-check inside the write lock: another process may have migrated meanwhile.
            row = conn.execute("SELECT version FROM schema_version WHERE component = ?", (component,)).fetchone()
            if row and row[0] >= version:
                continue
            for statement in _statements(script):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_version (component, version) VALUES (?, ?) "
                "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                (component, version),
            )
    return max(current, len(migrations))


def _statements(script: str) -> list[str]:
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return [s for s in out if s]

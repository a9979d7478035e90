"""The embedded store's connection set-up, with several processes opening one new file."""
from __future__ import annotations

import multiprocessing
import sqlite3
import time
import traceback

import pytest

from newsletter.core import db
from newsletter.campaign.journal import Journal

ROUNDS, PROCESSES = 40, 3


def _open_at(path: str, start: float, results) -> None:
    while time.time() < start:
        pass
    try:
        journal = Journal(path)
        results.put(("ok", journal.campaign_for("2026-11", "all", "outbox").id))
    except Exception:  # noqa: BLE001 - the test reports whatever went wrong
        results.put(("error", traceback.format_exc()))


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
def test_processes_opening_a_new_database_at_once(tmp_path):
    # SQLite answers "database is locked" at once, without waiting, when two connections
    # switch a new file to WAL mode together; connect() must wait its turn instead.
    ctx = multiprocessing.get_context("fork")
    for n in range(ROUNDS):
        path = str(tmp_path / f"round{n}.sqlite3")
        results = ctx.Queue()
        start = time.time() + 0.05
        procs = [ctx.Process(target=_open_at, args=(path, start, results)) for _ in range(PROCESSES)]
        for p in procs:
            p.start()
        outcomes = [results.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(timeout=60)
        errors = [text for kind, text in outcomes if kind == "error"]
        assert not errors, f"round {n}:\n" + "\n".join(errors)
        assert {value for _, value in outcomes} == {1}, f"round {n}: one campaign, the same for all"
        assert db.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_lock_other_than_the_wal_switch_is_not_retried_for_ever(tmp_path, monkeypatch):
    # A database some other program keeps locked exclusively: connect() gives up after the
    # busy timeout with SQLite's own error, instead of hanging.
    path = tmp_path / "held.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 200)
    began = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        db.connect(path)
    assert time.monotonic() - began < 5
    holder.execute("ROLLBACK")
    assert db.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_transaction_commits_the_block_and_rolls_back_on_error(tmp_path) -> None:
    conn = db.connect(tmp_path / "t.db")
    conn.execute("CREATE TABLE t (x INTEGER)")
    with db.transaction(conn):
        conn.execute("INSERT INTO t VALUES (1)")
    try:
        with db.transaction(conn):
            conn.execute("INSERT INTO t VALUES (2)")
            raise KeyError("boom")
    except KeyError:
        pass
    assert [r[0] for r in conn.execute("SELECT x FROM t")] == [1]
    assert not conn.in_transaction


def test_transaction_keeps_the_real_error_when_sqlite_rolled_back_itself(tmp_path) -> None:
    """A full disk makes SQLite roll back on its own; a second ROLLBACK must not replace the
    real error with "cannot rollback - no transaction is active"."""
    conn = db.connect(tmp_path / "t.db")
    with pytest.raises(sqlite3.OperationalError, match="disk is full"):
        with db.transaction(conn):
            conn.execute("ROLLBACK")  # what SQLite does by itself on SQLITE_FULL
            raise sqlite3.OperationalError("database or disk is full")

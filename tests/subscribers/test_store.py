"""The Store API the rest of the program uses."""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from newsletter.core.config import load_workspace
from newsletter.core.errors import SubscriberError
from newsletter.subscribers.models import Subscriber
from newsletter.subscribers.schema import MIGRATIONS
from newsletter.subscribers.store import Store

from .conftest import fixed_clock


def _add(store: Store, email: str, **values: object) -> Subscriber:
    return store.add(Subscriber(id=None, email=email, **values))  # type: ignore[arg-type]


def test_open_uses_the_database_path_from_the_settings(sample_ws: Path) -> None:
    ws = load_workspace(sample_ws)
    with Store.open(ws) as store:
        _add(store, "ana@example.org")
    assert ws.db_path == sample_ws / "subscribers" / "newsletter.sqlite3"
    assert ws.db_path.is_file()
    conn = sqlite3.connect(ws.db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT version FROM schema_version WHERE component = 'subscribers'").fetchone()[0] \
        == len(MIGRATIONS)


def test_reopening_does_not_migrate_again(tmp_path: Path) -> None:
    with Store(tmp_path / "db.sqlite3") as store:
        _add(store, "ana@example.org")
    with Store(tmp_path / "db.sqlite3") as store:
        assert store.get("ana@example.org") is not None


def test_get_is_case_insensitive_and_normalises(empty_store: Store) -> None:
    added = _add(empty_store, "Ana.Lopez@example.org", name="Ana López", tags=["leader"],
                 attributes={"centre": "Rosario"})
    for spelling in ("ana.lopez@EXAMPLE.org", " ANA.LOPEZ@example.org "):
        found = empty_store.get(spelling)
        assert found is not None and found.id == added.id
    assert found.email == "Ana.Lopez@example.org"
    assert found.tags == ["leader"] and found.attributes == {"centre": "Rosario"}
    assert found.created_at == found.updated_at == "2026-11-01T09:30:00Z"
    assert empty_store.get_by_id(added.id) == found
    assert empty_store.get("nobody@example.org") is None and empty_store.get("not an address") is None
    assert empty_store.get_by_id(999) is None


def test_add_refuses_a_known_address(empty_store: Store) -> None:
    _add(empty_store, "ana@example.org")
    with pytest.raises(SubscriberError, match="already in the list"):
        _add(empty_store, "ANA@example.org")


def test_iter_segment_streams_subscribed_people_in_id_order(empty_store: Store) -> None:
    people = [Subscriber(None, f"p{i}@example.org", status="unsubscribed" if i % 3 == 0 else "subscribed")
              for i in range(25)]
    empty_store.insert_many(people)
    ids = [s.id for s in empty_store.iter_segment("all", batch=4)]
    assert ids == sorted(ids) and len(ids) == 16
    assert set(ids) == empty_store.segment_ids("all") and empty_store.count("all") == 16
    assert all(empty_store.is_subscribed(i) for i in ids)
    assert not empty_store.is_subscribed(min(set(range(1, 26)) - set(ids)))
    assert not empty_store.is_subscribed(12345)


def test_iter_segment_does_not_hold_the_database_between_pages(tmp_path: Path) -> None:
    """A send reads a segment page by page while an unsubscribe is written in between."""
    with Store(tmp_path / "db.sqlite3") as reader, Store(tmp_path / "db.sqlite3") as writer:
        reader.insert_many([Subscriber(None, f"p{i}@example.org") for i in range(10)])
        seen = []
        for sub in reader.iter_segment("all", batch=2):
            seen.append(sub.id)
            if len(seen) == 3:
                writer.unsubscribe("p8@example.org", "clicked the link")
        assert len(seen) == 9  # the unsubscribe landed mid-stream and was respected


def test_unsubscribe_records_the_withdrawal_once(empty_store: Store) -> None:
    ana = _add(empty_store, "ana@example.org", consent={"source": "form", "method": "double-opt-in",
                                                        "time": "2025-01-01T00:00:00Z"})
    after = empty_store.unsubscribe(ana.id, "list-unsubscribe")
    assert after.status == "unsubscribed"
    assert after.consent == {"source": "form", "method": "double-opt-in", "time": "2025-01-01T00:00:00Z",
                             "withdrawn_at": "2026-11-01T09:30:00Z", "withdrawn_reason": "list-unsubscribe"}
    again = empty_store.unsubscribe("ANA@example.org", "another reason")
    assert again.consent == after.consent
    assert [e["kind"] for e in empty_store.events(ana.id)] == ["add", "unsubscribe"]
    assert empty_store.count("all") == 0
    with pytest.raises(SubscriberError, match="no subscriber"):
        empty_store.unsubscribe("nobody@example.org", "x")


def test_resubscribe_needs_new_consent_and_keeps_the_old_in_history(empty_store: Store) -> None:
    ana = _add(empty_store, "ana@example.org", consent={"source": "import", "method": "importer-vouched",
                                                        "time": "2024-01-01T00:00:00Z"})
    empty_store.unsubscribe(ana.id, "asked")
    with pytest.raises(SubscriberError, match="missing: method, time"):
        empty_store.resubscribe("ana@example.org", {"source": "phone"})
    new = {"source": "signup form", "method": "double-opt-in", "time": "2026-11-01T09:00:00Z"}
    back = empty_store.resubscribe("ana@example.org", new)
    assert back.status == "subscribed" and back.consent == new
    history = empty_store.events(ana.id)
    assert history[-1]["kind"] == "resubscribe"
    assert history[-1]["previous_consent"]["withdrawn_reason"] == "asked"


def test_blocklisted_people_need_unblock(empty_store: Store) -> None:
    _add(empty_store, "spam@example.org", status="blocklisted")
    consent = {"source": "x", "method": "form", "time": "2026-01-01"}
    with pytest.raises(SubscriberError, match="blocklisted"):
        empty_store.resubscribe("spam@example.org", consent)
    assert empty_store.resubscribe("spam@example.org", consent, unblock=True).status == "subscribed"


def test_record_bounce_cleans_at_the_limit(empty_store: Store) -> None:
    ana = _add(empty_store, "ana@example.org")
    assert empty_store.record_bounce(ana.id, limit=2) is False
    assert empty_store.get_by_id(ana.id).status == "subscribed"
    assert empty_store.record_bounce(ana.id, limit=2) is True
    cleaned = empty_store.get_by_id(ana.id)
    assert cleaned.status == "cleaned" and cleaned.bounces == 2
    assert empty_store.record_bounce(ana.id, limit=2) is False  # already cleaned
    assert not empty_store.is_subscribed(ana.id)


def test_a_bounce_never_overrides_an_unsubscribe(empty_store: Store) -> None:
    ana = _add(empty_store, "ana@example.org")
    empty_store.unsubscribe(ana.id, "asked")
    assert empty_store.record_bounce(ana.id, limit=1) is False
    assert empty_store.get_by_id(ana.id).status == "unsubscribed"
    with pytest.raises(SubscriberError):
        empty_store.record_bounce(999, limit=1)


def test_bounces_from_two_threads_are_both_counted(tmp_path: Path) -> None:
    """Each sending connection has its own Store; the counter is updated in the database."""
    with Store(tmp_path / "db.sqlite3") as store:
        ana = _add(store, "ana@example.org")

    def bounce() -> None:
        with Store(tmp_path / "db.sqlite3") as own:
            for _ in range(20):
                own.record_bounce(ana.id, limit=1000)

    threads = [threading.Thread(target=bounce) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with Store(tmp_path / "db.sqlite3") as store:
        assert store.get_by_id(ana.id).bounces == 40


def test_the_store_rolls_back_a_failed_transaction(empty_store: Store) -> None:
    with pytest.raises(RuntimeError), empty_store.transaction():
        empty_store.insert_many([Subscriber(None, "ana@example.org")])
        raise RuntimeError("disk full")
    assert empty_store.get("ana@example.org") is None


def test_a_damaged_database_is_a_subscriber_error(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(SubscriberError, match="cannot open the subscriber database"):
        Store(path, clock=fixed_clock)


def test_a_database_held_by_another_process_is_a_clear_error(tmp_path: Path) -> None:
    from newsletter.subscribers import store as store_module

    path = tmp_path / "db.sqlite3"
    with Store(path) as first:
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process writing
        first._conn.execute("PRAGMA busy_timeout = 50")
        with pytest.raises(store_module.DatabaseBusy, match="in use by another process") as info:
            first.add(Subscriber(None, "ana@example.org"))
        assert info.value.exit_code == 3
        holder.execute("ROLLBACK")
        holder.close()
        assert first.add(Subscriber(None, "ana@example.org")).id == 1


def test_rows_are_never_deleted_so_ids_are_never_reused(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    with Store(path) as store:
        store.insert_many([Subscriber(None, f"p{i}@example.org") for i in range(3)])
    conn = sqlite3.connect(path)
    with pytest.raises(sqlite3.IntegrityError, match="never deleted"):
        conn.execute("DELETE FROM subscribers WHERE id = 3")
    conn.close()


def test_a_database_of_the_first_schema_is_migrated_without_loss(tmp_path: Path) -> None:
    from newsletter.core.db import connect, migrate
    from newsletter.subscribers.store import _INSERT, _params

    path = tmp_path / "old.sqlite3"
    old = connect(path)
    migrate(old, "subscribers", MIGRATIONS[:1])
    people = [Subscriber(None, f"p{i}@example.org", first_name=f"P{i}", tags=["a"], attributes={"n": i},
                         status="unsubscribed" if i == 2 else "subscribed", consent={"source": "x"})
              for i in range(1, 4)]
    old.executemany(_INSERT, [_params(p, "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z") for p in people])
    old.execute("INSERT INTO subscriber_events (subscriber_id, at, kind) VALUES (2, '2024-01-03T00:00:00Z', "
                "'unsubscribe')")
    before = old.execute("SELECT * FROM subscribers ORDER BY id").fetchall()
    old.close()

    with Store(path, clock=fixed_clock) as store:
        after = store._conn.execute("SELECT * FROM subscribers ORDER BY id").fetchall()
        assert [tuple(r) for r in after] == [tuple(r) for r in before]
        assert store.events(2) == [{"at": "2024-01-03T00:00:00Z", "kind": "unsubscribe"}]
        assert store.add(Subscriber(None, "new@example.org")).id == 4
        assert store._conn.execute("PRAGMA foreign_key_check").fetchall() == []
        sql = store._conn.execute("SELECT sql FROM sqlite_master WHERE name = 'subscribers'").fetchone()[0]
        assert "AUTOINCREMENT" not in sql
        with pytest.raises(sqlite3.IntegrityError, match="never deleted"):
            store._conn.execute("DELETE FROM subscribers WHERE id = 4")
        version = store._conn.execute("SELECT version FROM schema_version WHERE component = 'subscribers'")
        assert version.fetchone()[0] == len(MIGRATIONS) == 2

"""The subscriber store. Callers see Subscribers and Segments, never SQL, so a PostgreSQL store
with the same methods can replace this one.

Reads of a segment stream in pages keyed on id (no read transaction stays open while the
caller works through the people), and every write is a short explicit transaction, so a send
and an import can run side by side on the same database.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
from contextlib import contextmanager
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from newsletter.core.config import Workspace
from newsletter.core.db import connect, migrate, transaction
from newsletter.core.errors import DatabaseBusy, SubscriberError
from newsletter.subscribers.models import (InvalidValue, Subscriber, differences, display_name, email_key, iso,
                                           normalise_consent, normalise_email, utc_now)
from newsletter.subscribers.schema import MIGRATIONS
from newsletter.subscribers.segments import Segment, Segments, load_segments

log = logging.getLogger(__name__)

COMPONENT = "subscribers"
_COLUMNS = ("id, email, name, first_name, last_name, language, country, tags, attributes, status, "
            "consent, created_at, updated_at, bounces")
_WRITE_COLUMNS = ("email", "email_key", "name", "first_name", "last_name", "language", "country",
                  "tags", "attributes", "status", "consent", "confirmed_at", "created_at", "updated_at")
_INSERT = (f"INSERT INTO subscribers ({', '.join(_WRITE_COLUMNS)}) "
           f"VALUES ({', '.join('?' * len(_WRITE_COLUMNS))})")
_UPDATE = ("UPDATE subscribers SET " + ", ".join(f"{c} = ?" for c in _WRITE_COLUMNS) + " WHERE id = ?")
_LOOKUP_CHUNK = 500
Clock = Callable[[], dt.datetime]


class Store:
    """Subscribers in one SQLite database (WAL mode, versioned schema)."""

    def __init__(self, path: Path | str, *, segments: Segments | None = None,
                 workspace: Workspace | None = None, clock: Clock = utc_now):
        self.path = path
        self._segments = segments
        self._ws = workspace
        self._clock = clock
        self._depth = 0
        self._import_floor = 0
        try:
            self._conn = connect(path)
            migrate(self._conn, COMPONENT, MIGRATIONS)
        except sqlite3.Error as exc:
            raise SubscriberError(f"cannot open the subscriber database {path}: {exc}") from None

    @classmethod
    def open(cls, ws: Workspace, *, clock: Clock = utc_now) -> "Store":
        """The workspace's store (``database:`` in newsletter.yaml) with its segments."""
        return cls(ws.db_path, workspace=ws, clock=clock)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def now(self) -> str:
        return iso(self._clock())

    # --- segments ---------------------------------------------------------------------------

    @property
    def segments(self) -> Segments:
        """The workspace's segments (read on first use), or only ``all`` without a workspace."""
        if self._segments is None:
            self._segments = load_segments(self._ws) if self._ws is not None else Segments()
        return self._segments

    def segment(self, segment: str | Segment) -> Segment:
        if isinstance(segment, Segment):
            return segment
        try:
            return self.segments.get(segment)
        except KeyError as exc:
            raise SubscriberError(exc.args[0]) from None

    def iter_segment(self, segment: str | Segment, batch: int = 1000) -> Iterator[Subscriber]:
        """The subscribed members of a segment, by id, fetched ``batch`` at a time."""
        where, params = self.segment(segment).sql()
        yield from self._pages(f"s.status = 'subscribed' AND {where}", params, batch)

    def iter_all(self, batch: int = 1000) -> Iterator[Subscriber]:
        """Everyone, whatever their status, by id (for exports and backups)."""
        yield from self._pages("1", [], batch)

    def _pages(self, where: str, params: list[Any], batch: int) -> Iterator[Subscriber]:
        sql = f"SELECT {_COLUMNS} FROM subscribers s WHERE {where} AND s.id > ? ORDER BY s.id LIMIT ?"
        last = 0
        while True:
            rows = self._conn.execute(sql, [*params, last, batch]).fetchall()
            for row in rows:
                yield _from_row(row)
            if len(rows) < batch:
                return
            last = rows[-1]["id"]

    def segment_ids(self, segment: str | Segment) -> set[int]:
        where, params = self.segment(segment).sql()
        sql = f"SELECT s.id FROM subscribers s WHERE s.status = 'subscribed' AND {where}"
        return {row[0] for row in self._conn.execute(sql, params)}

    def count(self, segment: str | Segment) -> int:
        where, params = self.segment(segment).sql()
        sql = f"SELECT count(*) FROM subscribers s WHERE s.status = 'subscribed' AND {where}"
        return self._conn.execute(sql, params).fetchone()[0]

    def status_counts(self) -> dict[str, int]:
        rows = self._conn.execute("SELECT status, count(*) FROM subscribers GROUP BY status")
        return {row[0]: row[1] for row in rows}

    def attribute_keys(self) -> dict[str, bool]:
        """Every attribute name in use -> whether all its values are non-empty text (those
        can be written to a CSV as they are; anything else is written as JSON)."""
        rows = self._conn.execute(
            "SELECT a.key, min(a.type = 'text' AND a.atom <> '') FROM subscribers s, json_each(s.attributes) AS a "
            "GROUP BY a.key ORDER BY a.key")
        return {row[0]: bool(row[1]) for row in rows}

    # --- one person ----------------------------------------------------------------------------

    def get(self, email: str) -> Subscriber | None:
        row = self._conn.execute(f"SELECT {_COLUMNS} FROM subscribers WHERE email_key = ?",
                                 (_lookup_key(email),)).fetchone()
        return _from_row(row) if row else None

    def get_by_id(self, subscriber_id: int) -> Subscriber | None:
        row = self._conn.execute(f"SELECT {_COLUMNS} FROM subscribers WHERE id = ?",
                                 (int(subscriber_id),)).fetchone()
        return _from_row(row) if row else None

    def is_subscribed(self, subscriber_id: int) -> bool:
        row = self._conn.execute("SELECT status FROM subscribers WHERE id = ?", (int(subscriber_id),)).fetchone()
        return row is not None and row[0] == "subscribed"

    def require(self, email_or_id: str | int) -> Subscriber:
        found = self.get_by_id(email_or_id) if isinstance(email_or_id, int) else self.get(email_or_id)
        if found is None:
            raise SubscriberError(f"no subscriber {email_or_id!r} in {self.path}")
        return found

    def add(self, subscriber: Subscriber) -> Subscriber:
        """A new person (already normalised: see importing.subscriber_from). Refuses a known address."""
        existing = self.get(subscriber.email)
        if existing is not None:
            raise SubscriberError(f"{existing.email} is already in the list (status {existing.status}); "
                                  "use 'subscribers resubscribe' to subscribe them again")
        now = self.now()
        new = subscriber.copy(created_at=subscriber.created_at or now, updated_at=now,
                              name=subscriber.name or display_name(subscriber.first_name, subscriber.last_name))
        with self.transaction():
            new.id = self._conn.execute(_INSERT, _params(new, new.created_at, now)).lastrowid
            self._event(new.stored_id, "add", {"status": new.status, "consent": new.consent})
        return new

    def unsubscribe(self, email_or_id: str | int, reason: str = "", *, source: str = "",
                    campaign: str | None = None) -> Subscriber:
        """Withdraw consent. Idempotent: the first withdrawal's time and reason are kept.
        ``campaign`` names the campaign whose message the person unsubscribed from."""
        with self.transaction():
            current = self.require(email_or_id)
            if current.status in ("unsubscribed", "blocklisted"):
                return current
            consent = dict(current.consent)
            consent.setdefault("withdrawn_at", self.now())
            if reason:
                consent.setdefault("withdrawn_reason", reason)
            changed = current.copy(status="unsubscribed", consent=consent)
            self.update_many([changed])
            detail = {"reason": reason, "source": source, "previous_status": current.status}
            if campaign:
                detail["campaign"] = campaign
            self._event(current.stored_id, "unsubscribe", detail)
        log.info("unsubscribed %s (%s)", current.id, reason)
        return self.require(current.stored_id)

    def resubscribe(self, email: str, consent: dict[str, Any], *, unblock: bool = False) -> Subscriber:
        """Subscribe someone again: only with a new consent record, which replaces the old one
        (the old one stays in the event history)."""
        new_consent = normalise_consent(consent)
        missing = [k for k in ("source", "method", "time") if k not in new_consent]
        if missing:
            raise SubscriberError(f"resubscribing needs a new consent record; missing: {', '.join(missing)}")
        with self.transaction():
            current = self.require(email)
            if current.status == "blocklisted" and not unblock:
                raise SubscriberError(f"{current.email} is blocklisted; pass --unblock if you are sure")
            changed = current.copy(status="subscribed", consent=new_consent)
            self.update_many([changed])
            self._conn.execute("UPDATE subscribers SET bounces = 0 WHERE id = ?", (current.id,))
            self._event(current.stored_id, "resubscribe", {"previous_status": current.status,
                                                    "previous_consent": current.consent})
        return self.require(current.stored_id)

    def set_preferences(self, subscriber_id: int, *, language: str | None, tags: list[str],
                        managed_tags: list[str], source: str = "") -> Subscriber:
        """A reader's own choices: their language, and which of ``managed_tags`` (the topics
        offered) they have; other tags stay. Applies to the next message sent to them."""
        with self.transaction():
            current = self.require(int(subscriber_id))
            kept = [t for t in current.tags if t not in managed_tags]
            changed = current.copy(language=language or current.language,
                                   tags=sorted(set(kept) | (set(tags) & set(managed_tags))))
            if (changed.language, changed.tags) != (current.language, current.tags):
                self.update_many([changed])
                self._event(current.stored_id, "preferences", {
                    "source": source, "language": changed.language,
                    "added": sorted(set(changed.tags) - set(current.tags)),
                    "removed": sorted(set(current.tags) - set(changed.tags))})
        return self.require(int(subscriber_id))

    def record_consent(self, subscriber_id: int, detail: dict[str, Any]) -> None:
        """Keep a consent statement (text version and language, source, time, address) in the
        person's history, for GDPR Art. 7(1): the controller must be able to show it."""
        with self.transaction():
            self._event(int(subscriber_id), "consent", detail)

    def edit(self, email: str, change: Callable[[Subscriber], Subscriber], *, source: str = "",
             dry_run: bool = False) -> tuple[Subscriber, Subscriber, dict[str, list[Any]]]:
        """Change one person's fields and attributes: ``change`` gets them as stored and returns
        them changed (see editing.apply). Read, change and write are one transaction, and the
        change is recorded as an event with what each value was. Returns (before, after, changes);
        with ``dry_run`` nothing is written."""
        with self.transaction():
            before = self.require(email)
            after = change(before)
            changed = differences(before, after)
            if changed and not dry_run:
                self.update_many([after])
                self._event(before.stored_id, "edit", {"changes": changed, "source": source})
        return before, (after if dry_run or not changed else self.require(before.stored_id)), changed

    def record_bounce(self, subscriber_id: int, limit: int) -> bool:
        """Count a hard bounce; at ``limit`` bounces a subscribed person becomes 'cleaned'.
        Returns whether this bounce changed the status."""
        with self.transaction():
            row = self._conn.execute(
                "UPDATE subscribers SET bounces = bounces + 1 WHERE id = ? RETURNING bounces, status",
                (int(subscriber_id),)).fetchone()
            if row is None:
                raise SubscriberError(f"no subscriber with id {subscriber_id}")
            cleaned = row["bounces"] >= limit and row["status"] in ("subscribed", "unconfirmed")
            if cleaned:
                self._conn.execute("UPDATE subscribers SET status = 'cleaned', updated_at = ? WHERE id = ?",
                                   (self.now(), int(subscriber_id)))
            self._event(int(subscriber_id), "bounce", {"bounces": row["bounces"], "cleaned": cleaned})
        return cleaned

    def events(self, subscriber_id: int) -> list[dict[str, Any]]:
        rows = self._conn.execute("SELECT at, kind, detail FROM subscriber_events WHERE subscriber_id = ? "
                                  "ORDER BY id", (subscriber_id,))
        return [{"at": r["at"], "kind": r["kind"], **json.loads(r["detail"])} for r in rows]

    def _event(self, subscriber_id: int, kind: str, detail: dict[str, Any]) -> None:
        self._conn.execute("INSERT INTO subscriber_events (subscriber_id, at, kind, detail) VALUES (?, ?, ?, ?)",
                           (subscriber_id, self.now(), kind, json.dumps(detail, ensure_ascii=False)))

    # --- bulk, for imports -------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction; nested uses join the outer one."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        try:
            with transaction(self._conn):
                self._depth = 1
                yield
        except sqlite3.OperationalError as exc:
            raise self._translated(exc) from None
        finally:
            self._depth = 0

    def _translated(self, exc: sqlite3.OperationalError) -> SubscriberError:
        if "locked" in str(exc) or "busy" in str(exc):
            return DatabaseBusy(f"the subscriber database {self.path} is in use by another process "
                                "(an import or a send?); try again when it has finished")
        return SubscriberError(f"the subscriber database {self.path} failed: {exc}")

    def lookup(self, keys: Iterable[str]) -> dict[str, Subscriber]:
        """Known subscribers by email key (lower-case address)."""
        keys = list(keys)
        found: dict[str, Subscriber] = {}
        for start in range(0, len(keys), _LOOKUP_CHUNK):
            chunk = keys[start:start + _LOOKUP_CHUNK]
            sql = f"SELECT {_COLUMNS} FROM subscribers WHERE email_key IN ({', '.join('?' * len(chunk))})"
            for row in self._conn.execute(sql, chunk):
                sub = _from_row(row)
                found[sub.key] = sub
        return found

    def insert_many(self, subscribers: list[Subscriber]) -> None:
        """Insert new people (created_at defaults to now)."""
        now = self.now()
        rows = [_params(s, s.created_at or now, now) for s in subscribers]
        with self.transaction():
            self._conn.executemany(_INSERT, rows)

    def update_many(self, subscribers: list[Subscriber]) -> None:
        now = self.now()
        with self.transaction():
            self._conn.executemany(_UPDATE, [(*_params(s, s.created_at, now), s.id) for s in subscribers])

    def start_import(self) -> None:
        """Begin an import: from now on, ``seen_in_import`` tells which addresses it met before."""
        self._conn.execute("CREATE TEMP TABLE IF NOT EXISTS import_seen (email_key TEXT PRIMARY KEY) WITHOUT ROWID")
        self._conn.execute("DELETE FROM temp.import_seen")
        self._import_floor = self._conn.execute("SELECT coalesce(max(id), 0) FROM subscribers").fetchone()[0]

    def seen_in_import(self, known: dict[str, Subscriber]) -> set[str]:
        """Which of these stored subscribers the current import has already met, and remember
        the rest. Those it added have ids above the highest id at its start (ids are never
        reused); those that were there before are remembered in a temporary table, so memory
        does not grow with the file. (A row another process adds meanwhile counts as met.)"""
        seen = {key for key, sub in known.items() if sub.stored_id > self._import_floor}
        older = [key for key in known if key not in seen]
        for start in range(0, len(older), _LOOKUP_CHUNK):
            chunk = older[start:start + _LOOKUP_CHUNK]
            sql = f"SELECT email_key FROM temp.import_seen WHERE email_key IN ({', '.join('?' * len(chunk))})"
            seen.update(row[0] for row in self._conn.execute(sql, chunk))
        self._conn.executemany("INSERT OR IGNORE INTO temp.import_seen VALUES (?)", [(k,) for k in older])
        return seen


def _lookup_key(email: str) -> str:
    try:
        return email_key(normalise_email(email))
    except InvalidValue:
        return email_key(email.strip())


def _make_json_encoder() -> Callable[[Any], str]:
    """Compact JSON text. json.dumps builds a new C encoder on every call, which is a third
    of the cost of writing an imported row; this builds it once (same output)."""
    def refuse(value: Any) -> Any:
        raise TypeError(f"cannot store {type(value).__name__} as JSON: {value!r}")

    if c_make_encoder is None:  # a Python without the _json accelerator
        return json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=refuse).encode
    encoder = c_make_encoder(None, refuse, encode_basestring, None, ":", ",", False, False, True)
    return lambda value: "".join(encoder(value, 0))


_json = _make_json_encoder()


def _params(s: Subscriber, created_at: str, updated_at: str) -> tuple[Any, ...]:
    # Without a name of its own, the name is first + last (what a 'To:' header shows).
    name = s.name or display_name(s.first_name, s.last_name)
    return (s.email, email_key(s.email), name, s.first_name, s.last_name, s.language, s.country,
            _json(s.tags), _json(s.attributes), s.status, _json(s.consent), s.consent.get("confirmed_at"),
            created_at, updated_at)


def _from_row(row: sqlite3.Row) -> Subscriber:
    return Subscriber(
        id=row["id"], email=row["email"], name=row["name"], first_name=row["first_name"],
        last_name=row["last_name"], language=row["language"], country=row["country"],
        tags=json.loads(row["tags"]), attributes=json.loads(row["attributes"]), status=row["status"],
        consent=json.loads(row["consent"]), created_at=row["created_at"], updated_at=row["updated_at"],
        bounces=row["bounces"],
    )


__all__ = ["Store", "Subscriber", "DatabaseBusy"]

"""One event model for everything that comes back: from the mailbox (DSNs, abuse reports,
mailto unsubscribes) and from mail services' webhooks (SES, Postmark, Mailgun, SendGrid).

An ``Event`` is one fact about one recipient, with the subscriber and campaign it concerns
when they are known. Each has a ``key`` that is the same however often the same report is
read (the report's Message-ID and the recipient; a webhook's own event id), so storing it is
idempotent: reading a mailbox twice, or a provider retrying a webhook, records it once.

The tables are this room's own (component "feedback" in core/db.py): events, the soft-bounce
score of each subscriber, and the mailbox messages already handled.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from newsletter.core import db

HARD_BOUNCE = "hard-bounce"
SOFT_BOUNCE = "soft-bounce"
COMPLAINT = "complaint"
UNSUBSCRIBE = "unsubscribe-request"
DELAY = "delivery-delay"
KINDS = (HARD_BOUNCE, SOFT_BOUNCE, COMPLAINT, UNSUBSCRIBE, DELAY)
COMPONENT = "feedback"

MIGRATIONS = [
    """
    CREATE TABLE feedback_events (
        id         INTEGER PRIMARY KEY,
        key        TEXT NOT NULL UNIQUE,             -- the same report read twice: one row
        kind       TEXT NOT NULL CHECK (kind IN ('hard-bounce', 'soft-bounce', 'complaint',
                                                 'unsubscribe-request', 'delivery-delay')),
        subscriber INTEGER,                          -- subscribers.id, NULL when not known
        campaign   INTEGER,                          -- campaigns.id, NULL when not known
        email      TEXT NOT NULL DEFAULT '',         -- the address the report names
        status     TEXT NOT NULL DEFAULT '',         -- RFC 3463 code, e.g. 5.1.1
        diagnostic TEXT NOT NULL DEFAULT '',         -- the remote server's words
        source     TEXT NOT NULL,                    -- mailbox, ses, postmark, mailgun, sendgrid
        at         TEXT NOT NULL,
        outcome    TEXT,                             -- what it did to the subscriber; NULL: not applied yet
        detail     TEXT NOT NULL DEFAULT '{}'        -- JSON object
    );
    CREATE INDEX feedback_events_subscriber ON feedback_events (subscriber, id);
    CREATE INDEX feedback_events_campaign ON feedback_events (campaign, kind);

    -- Mailman's bounce score for soft bounces: forgotten after a quiet period.
    CREATE TABLE feedback_scores (
        subscriber INTEGER PRIMARY KEY,
        score      INTEGER NOT NULL,
        last_at    TEXT NOT NULL
    );

    -- Mailbox messages already handled (by Message-ID), and what they were.
    CREATE TABLE feedback_messages (
        message_id TEXT PRIMARY KEY,
        at         TEXT NOT NULL,
        verdict    TEXT NOT NULL,                    -- bounce, complaint, unsubscribe, auto-reply, unknown, ...
        summary    TEXT NOT NULL DEFAULT ''
    );
    """,
]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Event:
    """One thing that came back about one recipient."""

    kind: str
    key: str
    source: str
    email: str = ""
    subscriber: int | None = None
    campaign: int | None = None
    status: str = ""
    diagnostic: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown event kind {self.kind!r}; expected one of {', '.join(KINDS)}")


@dataclass(frozen=True)
class StoredEvent:
    id: int
    event: Event
    at: str
    outcome: str | None


class EventStore:
    """The feedback tables in the workspace database."""

    def __init__(self, path: Path | str, *, clock=utc_now):
        self.path = path
        self._clock = clock
        self._conn = db.connect(path)
        db.migrate(self._conn, COMPONENT, MIGRATIONS)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def now(self) -> datetime:
        return self._clock()

    # -- events ---------------------------------------------------------------------------------

    def add(self, event: Event) -> int | None:
        """Store ``event``; its id, or None when an event with its key is already stored."""
        with db.transaction(self._conn):
            cur = self._conn.execute(
                "INSERT INTO feedback_events (key, kind, subscriber, campaign, email, status, diagnostic, "
                "source, at, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO NOTHING",
                (event.key, event.kind, event.subscriber, event.campaign, event.email, event.status,
                 event.diagnostic[:2000], event.source, iso(self.now()),
                 json.dumps(event.detail, ensure_ascii=False, sort_keys=True)))
            return cur.lastrowid if cur.rowcount else None

    def mark_applied(self, event_id: int, outcome: str) -> None:
        with db.transaction(self._conn):
            self._conn.execute("UPDATE feedback_events SET outcome = ? WHERE id = ?", (outcome, event_id))

    def unapplied(self) -> list[StoredEvent]:
        """Events stored but not yet applied to their subscriber (an earlier run stopped)."""
        return self._select("WHERE outcome IS NULL ORDER BY id", ())

    def for_subscriber(self, subscriber: int) -> list[StoredEvent]:
        return self._select("WHERE subscriber = ? ORDER BY id", (int(subscriber),))

    def all(self) -> list[StoredEvent]:
        return self._select("ORDER BY id", ())

    def campaign_counts(self, campaign: int) -> dict[str, int]:
        """Events of one campaign per kind; complaints and unsubscribe requests count people
        (one person reporting twice is one complaint)."""
        rows = self._conn.execute(
            "SELECT kind, count(DISTINCT coalesce(subscriber, email)) FROM feedback_events "
            "WHERE campaign = ? GROUP BY kind", (int(campaign),))
        counts = dict.fromkeys(KINDS, 0)
        counts.update({row[0]: row[1] for row in rows})
        return counts

    def _select(self, where: str, params: tuple) -> list[StoredEvent]:
        rows = self._conn.execute(
            "SELECT id, key, kind, subscriber, campaign, email, status, diagnostic, source, at, outcome, detail "
            f"FROM feedback_events {where}", params)
        return [_stored(row) for row in rows]

    # -- soft-bounce scores --------------------------------------------------------------------

    def add_soft_bounce(self, subscriber: int, quiet_days: float) -> int:
        """Add one to the subscriber's soft-bounce score, which starts again from nothing
        when the last soft bounce is more than ``quiet_days`` old; returns the new score."""
        now = self.now()
        with db.transaction(self._conn):
            row = self._conn.execute("SELECT score, last_at FROM feedback_scores WHERE subscriber = ?",
                                     (int(subscriber),)).fetchone()
            score = 1
            if row is not None:
                last = datetime.fromisoformat(row["last_at"].replace("Z", "+00:00"))
                quiet = (now - last).total_seconds() > quiet_days * 86400
                score = 1 if quiet else row["score"] + 1
            self._conn.execute(
                "INSERT INTO feedback_scores (subscriber, score, last_at) VALUES (?, ?, ?) "
                "ON CONFLICT(subscriber) DO UPDATE SET score = excluded.score, last_at = excluded.last_at",
                (int(subscriber), score, iso(now)))
        return score

    def reset_score(self, subscriber: int) -> None:
        with db.transaction(self._conn):
            self._conn.execute("DELETE FROM feedback_scores WHERE subscriber = ?", (int(subscriber),))

    def score(self, subscriber: int) -> int:
        row = self._conn.execute("SELECT score FROM feedback_scores WHERE subscriber = ?",
                                 (int(subscriber),)).fetchone()
        return row[0] if row else 0

    # -- mailbox messages ----------------------------------------------------------------------

    def seen_message(self, message_id: str) -> str | None:
        """The verdict on a mailbox message handled before, or None."""
        row = self._conn.execute("SELECT verdict FROM feedback_messages WHERE message_id = ?",
                                 (message_id,)).fetchone()
        return row[0] if row else None

    def remember_message(self, message_id: str, verdict: str, summary: str) -> None:
        with db.transaction(self._conn):
            self._conn.execute(
                "INSERT INTO feedback_messages (message_id, at, verdict, summary) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(message_id) DO NOTHING", (message_id, iso(self.now()), verdict, summary[:500]))

    def message_verdicts(self) -> dict[str, int]:
        rows = self._conn.execute("SELECT verdict, count(*) FROM feedback_messages GROUP BY verdict")
        return {row[0]: row[1] for row in rows}


def _stored(row: sqlite3.Row) -> StoredEvent:
    event = Event(kind=row["kind"], key=row["key"], source=row["source"], email=row["email"],
                  subscriber=row["subscriber"], campaign=row["campaign"], status=row["status"],
                  diagnostic=row["diagnostic"], detail=json.loads(row["detail"]))
    return StoredEvent(row["id"], event, row["at"], row["outcome"])

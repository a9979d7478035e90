"""The subscribers tables, as append-only migrations (see newsletter/db.py).

Portable on purpose: plain types, JSON kept as text (``jsonb`` in PostgreSQL), no SQLite-only
column tricks, so a PostgreSQL store can implement the same Store methods on the same shape.
"""
from __future__ import annotations

from newsletter.subscribers.models import STATUSES

_STATUS_LIST = ", ".join(f"'{s}'" for s in STATUSES)
_COLUMNS = ("id, email, email_key, name, first_name, last_name, language, country, tags, attributes, "
            "status, consent, confirmed_at, bounces, created_at, updated_at")

MIGRATIONS = [
    f"""
    CREATE TABLE subscribers (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: journals refer to it
        email        TEXT NOT NULL,
        email_key    TEXT NOT NULL UNIQUE,               -- lower-case address: finds duplicates
        name         TEXT NOT NULL DEFAULT '',
        first_name   TEXT NOT NULL DEFAULT '',
        last_name    TEXT NOT NULL DEFAULT '',
        language     TEXT,
        country      TEXT,
        tags         TEXT NOT NULL DEFAULT '[]',         -- JSON array of text, sorted
        attributes   TEXT NOT NULL DEFAULT '{{}}',       -- JSON object
        status       TEXT NOT NULL DEFAULT 'subscribed' CHECK (status IN ({_STATUS_LIST})),
        consent      TEXT NOT NULL DEFAULT '{{}}',       -- JSON object, models.CONSENT_KEYS
        confirmed_at TEXT,                               -- consent.confirmed_at, for segment rules
        bounces      INTEGER NOT NULL DEFAULT 0,         -- hard bounces counted so far
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL
    );

    -- What happened to whom, for the consent record: explicit changes only (add, unsubscribe,
    -- resubscribe, bounce), never one row per imported line.
    CREATE TABLE subscriber_events (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        subscriber_id INTEGER NOT NULL REFERENCES subscribers(id),
        at            TEXT NOT NULL,
        kind          TEXT NOT NULL,
        detail        TEXT NOT NULL DEFAULT '{{}}'        -- JSON object
    );
    CREATE INDEX subscriber_events_subscriber ON subscriber_events (subscriber_id, id);
    """,
    # 2: the same table without AUTOINCREMENT, whose bookkeeping (a write to sqlite_sequence for
    # every row) cost a third of an import's insert time. Ids stay unique without it: SQLite
    # gives a new row the highest id + 1, so an id could only come back if the row with the
    # highest id were deleted, and rows are never deleted (a status says who gets mail; erasing
    # someone's data would blank the row, not remove it), which the trigger enforces.
    # Rebuilt the SQLite way: copy, drop, rename; the events table is rebuilt around it so that
    # its foreign key never points at a missing row.
    f"""
    CREATE TABLE subscribers_v2 (
        id           INTEGER PRIMARY KEY,                -- never reused: see the trigger below
        email        TEXT NOT NULL,
        email_key    TEXT NOT NULL UNIQUE,
        name         TEXT NOT NULL DEFAULT '',
        first_name   TEXT NOT NULL DEFAULT '',
        last_name    TEXT NOT NULL DEFAULT '',
        language     TEXT,
        country      TEXT,
        tags         TEXT NOT NULL DEFAULT '[]',
        attributes   TEXT NOT NULL DEFAULT '{{}}',
        status       TEXT NOT NULL DEFAULT 'subscribed' CHECK (status IN ({_STATUS_LIST})),
        consent      TEXT NOT NULL DEFAULT '{{}}',
        confirmed_at TEXT,
        bounces      INTEGER NOT NULL DEFAULT 0,
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL
    );
    INSERT INTO subscribers_v2 ({_COLUMNS}) SELECT {_COLUMNS} FROM subscribers;
    CREATE TABLE events_copy AS SELECT * FROM subscriber_events;
    DROP TABLE subscriber_events;
    DROP TABLE subscribers;
    ALTER TABLE subscribers_v2 RENAME TO subscribers;
    CREATE TABLE subscriber_events (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        subscriber_id INTEGER NOT NULL REFERENCES subscribers(id),
        at            TEXT NOT NULL,
        kind          TEXT NOT NULL,
        detail        TEXT NOT NULL DEFAULT '{{}}'
    );
    INSERT INTO subscriber_events (id, subscriber_id, at, kind, detail)
        SELECT id, subscriber_id, at, kind, detail FROM events_copy;
    DROP TABLE events_copy;
    CREATE INDEX subscriber_events_subscriber ON subscriber_events (subscriber_id, id);
    CREATE TRIGGER subscribers_never_deleted BEFORE DELETE ON subscribers
    BEGIN
        SELECT RAISE(ABORT, 'subscribers are never deleted (their ids must not be reused); change the status instead');
    END;
    """,
]

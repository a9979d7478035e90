"""The subscribers tables, as append-only migrations (see newsletter/db.py).

Portable on purpose: plain types, JSON kept as text (``jsonb`` in PostgreSQL), no SQLite-only
column tricks, so a PostgreSQL store can implement the same Store methods on the same shape.
"""
from __future__ import annotations

from .models import STATUSES

_STATUS_LIST = ", ".join(f"'{s}'" for s in STATUSES)

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
]

"""Pending sign-ups (double opt-in): someone asked to join from the web; nothing about them
is in the subscriber list until they confirm from their own mailbox.

A pending sign-up is a row of its own table, not an ``unconfirmed`` subscriber: subscribers are
never deleted (their ids are kept for the journals), while a sign-up nobody confirms must
vanish when it expires (GDPR data minimisation). Confirming moves what the form collected into
the list through the Store's own methods (add, resubscribe, set_preferences) and keeps the
consent statement in the person's history.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from newsletter.core.db import migrate
from newsletter.subscribers.models import Subscriber, iso
from newsletter.subscribers.store import Store

COMPONENT = "signups"
MIGRATIONS = [
    """
    CREATE TABLE signups (
        id           INTEGER PRIMARY KEY,
        email        TEXT NOT NULL,
        name         TEXT NOT NULL DEFAULT '',
        language     TEXT,
        tags         TEXT NOT NULL DEFAULT '[]',     -- JSON array: the topics chosen
        consent      TEXT NOT NULL DEFAULT '{}',     -- JSON: text version and language, source, ip
        created_at   TEXT NOT NULL,
        expires_at   TEXT NOT NULL,
        confirmed_at TEXT
    );
    CREATE INDEX signups_expires ON signups (expires_at);
    """,
]


@dataclass
class Signup:
    id: int
    email: str
    name: str
    language: str | None
    tags: list[str]
    consent: dict[str, Any]
    created_at: str
    expires_at: str
    confirmed_at: str | None = None


@dataclass
class Confirmed:
    """What a confirmation did: ``subscriber`` is None when nothing could change (blocklisted)."""

    signup: Signup
    subscriber: Subscriber | None
    already: bool = False
    notes: list[str] = field(default_factory=list)


class Signups:
    """Pending sign-ups in the store's database (same connection, same transactions)."""

    def __init__(self, store: Store):
        self.store = store
        self._conn = store._conn  # one package: the store's connection, so one transaction spans both
        migrate(self._conn, COMPONENT, MIGRATIONS)

    def request(self, *, email: str, name: str, language: str | None, tags: list[str],
                consent: dict[str, Any], now: dt.datetime, lifetime: dt.timedelta) -> Signup:
        """Record a sign-up waiting for confirmation (values already normalised); expired ones go."""
        created, expires = iso(now), iso(now + lifetime)
        with self.store.transaction():
            self._conn.execute("DELETE FROM signups WHERE expires_at <= ?", (created,))
            cursor = self._conn.execute(
                "INSERT INTO signups (email, name, language, tags, consent, created_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (email, name, language, json.dumps(tags), json.dumps(consent, ensure_ascii=False),
                 created, expires))
            return Signup(int(cursor.lastrowid or 0), email, name, language, tags, consent, created, expires)

    def get(self, signup_id: int) -> Signup | None:
        row = self._conn.execute("SELECT * FROM signups WHERE id = ?", (int(signup_id),)).fetchone()
        return _from_row(row) if row else None

    def pending(self, signup_id: int, now: dt.datetime) -> Signup | None:
        """The sign-up if it exists and has not expired (confirmed or not)."""
        found = self.get(signup_id)
        return found if found and found.expires_at > iso(now) else None

    def confirm(self, signup_id: int, *, now: dt.datetime, confirm_ip: str | None) -> Confirmed | None:
        """Subscribe the person who asked. None if the sign-up is unknown or expired; a second
        confirmation changes nothing. One transaction: a crash leaves it pending."""
        stamp = iso(now)
        with self.store.transaction():
            found = self.pending(signup_id, now)
            if found is None:
                return None
            if found.confirmed_at:
                return Confirmed(found, self.store.get(found.email), already=True)
            self._conn.execute("UPDATE signups SET confirmed_at = ? WHERE id = ?", (stamp, found.id))
            found.confirmed_at = stamp
            sub = self._apply(found, stamp, confirm_ip)
            if sub is not None:
                self.store.record_consent(sub.stored_id, {
                    **found.consent, "method": "double-opt-in", "signed_up_at": found.created_at,
                    "confirmed_at": stamp, **({"confirm_ip": confirm_ip} if confirm_ip else {})})
        return Confirmed(found, sub)

    def _apply(self, found: Signup, stamp: str, confirm_ip: str | None) -> Subscriber | None:
        consent = {"source": found.consent.get("source", "sign-up form"), "method": "double-opt-in",
                   "time": found.created_at, "ip": found.consent.get("ip"), "confirmed_at": stamp,
                   "confirm_ip": confirm_ip}
        consent = {k: v for k, v in consent.items() if v}
        store = self.store
        existing = store.get(found.email)
        if existing is None:
            return store.add(Subscriber(None, found.email, name=found.name, language=found.language,
                                        tags=list(found.tags), status="subscribed", consent=consent))
        if existing.status == "blocklisted":
            return None  # the editor blocked this address; a web form cannot lift that
        if existing.status != "subscribed":
            store.resubscribe(existing.email, consent)
        managed = list(found.consent.get("topics_offered", found.tags))
        return store.set_preferences(existing.stored_id, language=found.language, tags=found.tags,
                                     managed_tags=managed, source="sign-up form")


def _from_row(row: Any) -> Signup:
    return Signup(row["id"], row["email"], row["name"], row["language"], json.loads(row["tags"]),
                  json.loads(row["consent"]), row["created_at"], row["expires_at"], row["confirmed_at"])

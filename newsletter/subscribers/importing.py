"""The import engine, shared by every format: rows in, merged into the store in batches.

Each format (importers/*) turns its file into a stream of normalised Subscribers (good rows)
and ``RowError`` (where, and why not). Here the stream is cut into batches; each batch is
merged with what the store already holds and written in one go.

Merge rules (docs/subscribers.md):
- a value given in the file replaces the stored one; an empty cell changes nothing;
- tags are added, never removed; attributes are added or replaced, never removed;
- the stronger status wins (blocklisted > unsubscribed > cleaned > subscribed > unconfirmed),
  so an import never re-subscribes anyone who left, bounced or was blocked, and in a
  Mailchimp export the unsubscribe wins;
- the first consent record is kept; a withdrawal (time, reason) is added to it.
"""
from __future__ import annotations

import json
import logging
from contextlib import nullcontext
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Iterable, Iterator

from newsletter.subscribers.models import (STATUS_RANK, SUPPRESSED, InvalidValue, Subscriber, clean_name, display_name,
                     normalise_consent, normalise_country, normalise_email, normalise_language,
                     normalise_status, normalise_tags, parse_time)
from newsletter.subscribers.store import Store

log = logging.getLogger(__name__)

BATCH = 2000
MAX_REPORTED = 1000
WITHDRAWAL = ("withdrawn_at", "withdrawn_reason")


@dataclass
class RowError:
    """One refused row: ``file:line: reason``."""

    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


@dataclass
class ImportOptions:
    tags: list[str] = field(default_factory=list)
    status: str | None = None        # for rows that give none (default: subscribed)
    strict: bool = False
    now: str = ""                    # consent time for rows the importer vouches for
    known_attributes: frozenset[str] = frozenset()  # attribute columns that need no note


@dataclass
class ImportSummary:
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    rejected: int = 0
    suppressed: int = 0
    errors: list[RowError] = field(default_factory=list)  # the first MAX_REPORTED
    notes: list[str] = field(default_factory=list)  # about the file's columns, each once
    written: bool = True

    @property
    def rows(self) -> int:
        return self.imported + self.updated + self.unchanged + self.duplicates + self.rejected + self.suppressed

    def reject(self, error: RowError) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_REPORTED:
            self.errors.append(error)

    def line(self) -> str:
        return (f"imported {self.imported}, updated {self.updated}, unchanged {self.unchanged}, "
                f"duplicates {self.duplicates}, rejected {self.rejected}, suppressed {self.suppressed}")


class _StrictAbort(Exception):
    """Raised inside the import transaction so that --strict writes nothing."""


def run_import(store: Store, rows: Iterable[Subscriber | RowError], options: ImportOptions) -> ImportSummary:
    """Merge ``rows`` into ``store``, one transaction per batch. With ``options.strict`` the
    whole import is one transaction, rolled back if any row is bad; the summary then says
    what the import would have done."""
    summary = ImportSummary()
    store.start_import()
    try:
        with store.transaction() if options.strict else nullcontext():
            for batch in _batches(rows, BATCH):
                good = _sort_out(batch, summary)
                with store.transaction():
                    _apply(store, good, options, summary)
            if options.strict and summary.rejected:
                raise _StrictAbort
    except _StrictAbort:
        summary.written = False
    return summary


def _batches(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


def _sort_out(batch: list[Subscriber | RowError], summary: ImportSummary) -> list[Subscriber]:
    good = []
    for item in batch:
        if isinstance(item, RowError):
            summary.reject(item)
        else:
            good.append(item)
    return good


def _apply(store: Store, rows: list[Subscriber], options: ImportOptions, summary: ImportSummary) -> None:
    groups: dict[str, list[Subscriber]] = {}
    for sub in rows:
        if options.tags:
            sub.tags = sorted(set(sub.tags) | set(options.tags))
        groups.setdefault(sub.key, []).append(sub)
    known = store.lookup(groups)
    seen = store.seen_in_import(known)
    inserts, updates = [], []
    for key, group in groups.items():
        before = known.get(key)
        state = _merge_group(before, group, key in seen, summary)
        if before is None:
            inserts.append(state)
        elif state != before:
            updates.append(state)
    store.insert_many(inserts)
    store.update_many(updates)


def _merge_group(before: Subscriber | None, group: list[Subscriber], seen: bool,
                 summary: ImportSummary) -> Subscriber:
    """Merge the rows of one address in a batch; count one outcome per row."""
    first, rest = group[0], group[1:]
    if seen:
        summary.duplicates += 1
        state = merge(before, first) if before is not None else first
    elif before is None:
        summary.imported += 1
        state = first
    else:
        state = merge(before, first)
        if first.status not in SUPPRESSED and before.status in SUPPRESSED:
            summary.suppressed += 1
        elif state == before:
            summary.unchanged += 1
        else:
            summary.updated += 1
    for sub in rest:
        summary.duplicates += 1
        state = merge(state, sub)
    return state


def merge(current: Subscriber, incoming: Subscriber) -> Subscriber:
    """``current`` updated with what ``incoming`` says, by the rules in the module docstring."""
    out = current.copy()
    for name in ("first_name", "last_name", "language", "country"):
        value = getattr(incoming, name)
        if value:
            setattr(out, name, value)
    out.name = _merged_name(current, incoming, out)
    out.tags = sorted(set(current.tags) | set(incoming.tags))
    out.attributes = {**current.attributes, **incoming.attributes}
    if STATUS_RANK[incoming.status] > STATUS_RANK[current.status]:
        out.status = incoming.status
    out.consent = dict(current.consent) if current.consent else dict(incoming.consent)
    if out.status in SUPPRESSED:
        for key in WITHDRAWAL:
            if key in incoming.consent and key not in out.consent:
                out.consent[key] = incoming.consent[key]
    return out


def _merged_name(current: Subscriber, incoming: Subscriber, merged: Subscriber) -> str:
    """A name given in the file wins. Otherwise a name that was only first + last follows
    them, and a name someone wrote differently is kept."""
    if incoming.name:
        return incoming.name
    if not current.name or current.name == display_name(current.first_name, current.last_name):
        return display_name(merged.first_name, merged.last_name)
    return current.name


def subscriber_from(values: dict[str, Any], options: ImportOptions, default_consent: dict[str, Any]) -> Subscriber:
    """A normalised Subscriber from one row's values (keys as in Subscriber; ``tags`` a list,
    ``attributes`` and ``consent`` dicts). Raises InvalidValue naming the field."""
    get = values.get
    email = normalise_email(get("email") or "")  # first: the reason a row is refused most often
    name = clean_name(get("name"), "name")  # empty: the store writes first + last
    first, last = clean_name(get("first_name"), "first_name"), clean_name(get("last_name"), "last_name")
    consent = normalise_consent(get("consent") or {}) or dict(default_consent)
    created = parse_time(get("created_at"), "created_at") or consent.get("time") or consent.get("confirmed_at")
    return Subscriber(
        None, email, name, first, last,
        normalise_language(get("language")), normalise_country(get("country")),
        normalise_tags(get("tags") or []), get("attributes") or {},
        normalise_status(get("status")) or options.status or "subscribed",
        consent, created or "",
    )


def check_attributes(attributes: Any) -> dict[str, Any]:
    """Attributes that came as JSON: names and values checked like CSV columns and cells."""
    if not isinstance(attributes, dict):
        raise InvalidValue("attributes", f"expected a mapping of names to values, got {type(attributes).__name__}")
    for key, value in attributes.items():
        check_attribute_name(key)
        check_value(key, value)
    return attributes


def check_attribute_name(key: Any) -> str:
    if not isinstance(key, str) or not key.strip() or len(key) > 100 or "\x00" in key:
        raise InvalidValue("attributes", f"attribute name {key!r} must be 1 to 100 characters, not all spaces")
    return key


def check_value(key: str, value: Any) -> Any:
    # SQLite's JSON functions stop at a NUL character and refuse NaN, so segment rules could
    # not read such a value.
    try:
        text = value if isinstance(value, str) else json.dumps(value, allow_nan=False)
    except ValueError:
        raise InvalidValue(f"attributes.{key}", "holds NaN or Infinity, which JSON cannot store") from None
    if "\x00" in text:
        raise InvalidValue(f"attributes.{key}", "holds a NUL character")
    return value

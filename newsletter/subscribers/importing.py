"""The import engine, shared by every format: rows in, merged into the store in batches.

Each format (importers/*) turns its file into a stream of ``Row`` (a normalised Subscriber
and where it came from) or ``RowError`` (where, and why not). Here the stream is cut into
batches; each batch is merged with what the store already holds and written in one go.

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
from typing import Any, Callable, Iterable, Iterator

from .models import (STATUS_RANK, SUPPRESSED, InvalidValue, Subscriber, clean_name, display_name,
                     normalise_consent, normalise_country, normalise_email, normalise_language,
                     normalise_status, normalise_tags, parse_time)
from .store import Store

log = logging.getLogger(__name__)

BATCH = 2000
MAX_REPORTED = 1000
WITHDRAWAL = ("withdrawn_at", "withdrawn_reason")
Progress = Callable[[int], None]


@dataclass
class Row:
    """One good incoming row."""

    where: str
    subscriber: Subscriber


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


@dataclass
class ImportSummary:
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    rejected: int = 0
    suppressed: int = 0
    errors: list[RowError] = field(default_factory=list)
    written: bool = True
    notes: list[str] = field(default_factory=list)

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


def run_import(store: Store, rows: Iterable[Row | RowError], options: ImportOptions) -> ImportSummary:
    """Merge ``rows`` into ``store``. With ``options.strict`` nothing is written if any row
    is bad (every bad row is still reported)."""
    summary = ImportSummary()
    store.start_import()
    try:
        with store.transaction() if options.strict else nullcontext():
            for batch in _batches(rows, BATCH):
                good = _sort_out(batch, summary)
                if not (options.strict and summary.rejected):
                    with store.transaction():
                        _apply(store, good, options, summary)
            if options.strict and summary.rejected:
                raise _StrictAbort
    except _StrictAbort:
        summary.written = False
        summary.imported = summary.updated = summary.unchanged = summary.duplicates = summary.suppressed = 0
    return summary


def _batches(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


def _sort_out(batch: list[Row | RowError], summary: ImportSummary) -> list[Row]:
    good = []
    for item in batch:
        if isinstance(item, RowError):
            summary.reject(item)
        else:
            good.append(item)
    return good


def _apply(store: Store, rows: list[Row], options: ImportOptions, summary: ImportSummary) -> None:
    groups: dict[str, list[Subscriber]] = {}
    for row in rows:
        sub = row.subscriber
        if options.tags:
            sub.tags = sorted(set(sub.tags) | set(options.tags))
        groups.setdefault(sub.key, []).append(sub)
    seen = store.mark_seen(list(groups))
    known = store.lookup(groups)
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
    for name in ("name", "first_name", "last_name", "language", "country"):
        value = getattr(incoming, name)
        if value:
            setattr(out, name, value)
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


def build(values: dict[str, Any], options: ImportOptions, default_consent: dict[str, Any]) -> Subscriber:
    """A normalised Subscriber from one row's values (keys as in Subscriber; ``tags`` a list,
    ``attributes`` and ``consent`` dicts). Raises InvalidValue naming the field."""
    email = normalise_email(values.get("email") or "")
    first = clean_name(values.get("first_name"), "first_name")
    last = clean_name(values.get("last_name"), "last_name")
    name = clean_name(values.get("name"), "name") or display_name(first, last)
    status = normalise_status(values.get("status")) or options.status or "subscribed"
    consent = normalise_consent(values.get("consent") or {}) or dict(default_consent)
    created = parse_time(values.get("created_at"), "created_at") or consent.get("time") or ""
    return Subscriber(
        id=None, email=email, name=name, first_name=first, last_name=last,
        language=normalise_language(values.get("language")),
        country=normalise_country(values.get("country")),
        tags=normalise_tags(values.get("tags") or []),
        attributes=values.get("attributes") or {},
        status=status, consent=consent, created_at=created,
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
    # SQLite's JSON functions stop at a NUL character, so segment rules could not see past it.
    if "\x00" in (value if isinstance(value, str) else json.dumps(value)):
        raise InvalidValue(f"attributes.{key}", "holds a NUL character")
    return value


def row_or_error(path: str, line: int, make: Callable[[], Subscriber]) -> Row | RowError:
    """Run ``make``; a bad value becomes a RowError at path:line."""
    try:
        return Row(f"{path}:{line}", make())
    except InvalidValue as exc:
        return RowError(path, line, str(exc))

"""Exports: csv (the plain-CSV import format), listmonk (email,name,attributes) and jsonl.

Each is lossless for status, tags, attributes and consent: importing an export into an empty
store gives back the same subscribers (tests/subscribers/test_roundtrip.py).
"""
from __future__ import annotations

import csv
import json
from typing import Any, Iterator, TextIO

from newsletter.subscribers.importers.listmonk import EXTRA
from newsletter.subscribers.importers.plaincsv import attribute_column
from newsletter.subscribers.models import CONSENT_KEYS, Subscriber
from newsletter.subscribers.store import Store

EXPORT_FORMATS = ("csv", "listmonk", "jsonl")
CSV_FIELDS = ["email", "name", "first_name", "last_name", "language", "country", "tags", "status", "created_at"]
CONSENT_COLUMNS = [f"consent_{key}" for key in CONSENT_KEYS]
LEFTOVER = "attributes"


def export(store: Store, out: TextIO, fmt: str = "csv", segment: str | None = None) -> int:
    """Write subscribers to ``out``: a segment's subscribed members, or everyone whatever their
    status. Returns how many were written."""
    people = store.iter_segment(segment) if segment else store.iter_all()
    if fmt == "csv":
        return _csv(store, people, out)
    if fmt == "listmonk":
        return _write_rows(out, ["email", "name", "attributes"], (_listmonk_row(s) for s in people))
    if fmt == "jsonl":
        count = 0
        for sub in people:
            out.write(json.dumps(jsonl_object(sub), ensure_ascii=False) + "\n")
            count += 1
        return count
    raise ValueError(f"unknown export format {fmt!r}; expected one of: {', '.join(EXPORT_FORMATS)}")


def _csv(store: Store, people: Iterator[Subscriber], out: TextIO) -> int:
    columns, leftover = _attribute_columns(store.attribute_keys())
    header = CSV_FIELDS + CONSENT_COLUMNS + [c for c, _ in columns.values()] + ([LEFTOVER] if leftover else [])
    return _write_rows(out, header, (_csv_row(s, columns, leftover) for s in people))


def _attribute_columns(keys: dict[str, bool]) -> tuple[dict[str, tuple[str, bool]], set[str]]:
    """attribute -> (column, as JSON); and the attributes that go into the JSON column."""
    used = {c.lower() for c in CSV_FIELDS + CONSENT_COLUMNS + [LEFTOVER]}
    columns: dict[str, tuple[str, bool]] = {}
    leftover: set[str] = set()
    for key, text_only in keys.items():
        found = attribute_column(key, text_only)
        if found is None or found[0].lower() in used:
            leftover.add(key)
            continue
        used.add(found[0].lower())
        columns[key] = found
    return columns, leftover


def _csv_row(sub: Subscriber, columns: dict[str, tuple[str, bool]], leftover: set[str]) -> list[str]:
    row = [sub.email, sub.name, sub.first_name, sub.last_name, sub.language or "", sub.country or "",
           ", ".join(sub.tags), sub.status, sub.created_at]
    row += [str(sub.consent.get(key, "")) for key in CONSENT_KEYS]
    for key, (_, as_json) in columns.items():
        value = sub.attributes.get(key, _MISSING)
        row.append("" if value is _MISSING else (json.dumps(value, ensure_ascii=False) if as_json else value))
    if leftover:
        rest = {k: v for k, v in sub.attributes.items() if k in leftover}
        row.append(json.dumps(rest, ensure_ascii=False) if rest else "")
    return row


_MISSING = object()


def _listmonk_row(sub: Subscriber) -> list[str]:
    extra = {"first_name": sub.first_name, "last_name": sub.last_name, "language": sub.language,
             "country": sub.country, "tags": sub.tags, "status": sub.status, "consent": sub.consent,
             "created_at": sub.created_at}
    attributes = {**sub.attributes, EXTRA: extra}
    return [sub.email, sub.name, json.dumps(attributes, ensure_ascii=False)]


def jsonl_object(sub: Subscriber) -> dict[str, Any]:
    return {
        "id": sub.id, "email": sub.email, "name": sub.name, "first_name": sub.first_name,
        "last_name": sub.last_name, "language": sub.language, "country": sub.country, "tags": sub.tags,
        "status": sub.status, "attributes": sub.attributes, "consent": sub.consent,
        "created_at": sub.created_at, "updated_at": sub.updated_at,
    }


def _write_rows(out: TextIO, header: list[str], rows: Iterator[list[str]]) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return count

"""Exports: csv (the plain-CSV import format), listmonk (email,name,attributes) and jsonl.

Each is lossless for status, tags, attributes and consent: importing an export into an empty
store gives back the same subscribers (tests/subscribers/test_roundtrip.py).

The csv format has an Excel flavour (``excel=True``): the command writes it in UTF-8 with a
byte-order mark, which is how Excel recognises UTF-8, and with the delimiter the spreadsheets of
the workspace's language expect (``;`` where the decimal separator is a comma). A cell that
Excel would run as a formula (it starts with = + - @, a tab or a carriage return) gets a
leading apostrophe, which the import takes off again (see plaincsv.unquote_cell): a subscriber
whose name is ``=HYPERLINK(...)`` cannot put a formula into the editor's spreadsheet.
"""
from __future__ import annotations

import csv
import json
from typing import Any, Callable, Iterator, TextIO

from newsletter.subscribers.importers.listmonk import EXTRA
from newsletter.subscribers.importers.plaincsv import attribute_column, quote_for_excel, quote_for_import
from newsletter.subscribers.models import CONSENT_KEYS, Subscriber
from newsletter.subscribers.store import Store

EXPORT_FORMATS = ("csv", "listmonk", "jsonl")
# Languages whose spreadsheets write numbers with a decimal comma and so separate CSV cells
# with a semicolon; an Excel export for a workspace in one of them uses ';'.
SEMICOLON_LANGUAGES = frozenset({"de", "fr", "es", "it", "pt", "nl"})


def excel_delimiter(language: str) -> str:
    """The delimiter Excel expects in a CSV for a workspace whose default language is ``language``."""
    return ";" if language.split("-")[0].lower() in SEMICOLON_LANGUAGES else ","
CSV_FIELDS = ["email", "name", "first_name", "last_name", "language", "country", "tags", "status", "created_at"]
CONSENT_COLUMNS = [f"consent_{key}" for key in CONSENT_KEYS]
LEFTOVER = "attributes"


def export(store: Store, out: TextIO, fmt: str = "csv", segment: str | None = None, *, delimiter: str = ",",
           excel: bool = False) -> int:
    """Write subscribers to ``out``: a segment's subscribed members, or everyone whatever their
    status. Returns how many were written. ``delimiter`` separates the cells of the CSV formats;
    ``excel`` (csv only) writes CRLF line ends and keeps Excel from running cells as formulas
    (the caller writes the byte-order mark: it belongs to the file, not to the rows)."""
    if excel and fmt != "csv":
        raise ValueError(f"the Excel flavour is a flavour of the csv format, not of {fmt}")
    people = store.iter_segment(segment) if segment else store.iter_all()
    if fmt == "csv":
        return _csv(store, people, _writer(out, delimiter, quote_for_excel if excel else quote_for_import, excel))
    if fmt == "listmonk":
        writer = _writer(out, delimiter, _as_is, False)
        return _write_rows(writer, ["email", "name", "attributes"], (_listmonk_row(s) for s in people))
    if fmt == "jsonl":
        count = 0
        for sub in people:
            out.write(json.dumps(jsonl_object(sub), ensure_ascii=False) + "\n")
            count += 1
        return count
    raise ValueError(f"unknown export format {fmt!r}; expected one of: {', '.join(EXPORT_FORMATS)}")


def _csv(store: Store, people: Iterator[Subscriber], writer: "_Writer") -> int:
    columns, leftover = _attribute_columns(store.attribute_keys())
    header = CSV_FIELDS + CONSENT_COLUMNS + [c for c, _ in columns.values()] + ([LEFTOVER] if leftover else [])
    return _write_rows(writer, header, (_csv_row(s, columns, leftover) for s in people))


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


class _Writer:
    """csv.writer, with every cell passed through ``quote`` first."""

    def __init__(self, out: TextIO, delimiter: str, quote: Callable[[str], str], crlf: bool):
        self._csv = csv.writer(out, delimiter=delimiter, lineterminator="\r\n" if crlf else "\n")
        self._quote = quote

    def writerow(self, row: list[str]) -> None:
        self._csv.writerow([self._quote(cell) for cell in row])


def _writer(out: TextIO, delimiter: str, quote: Callable[[str], str], crlf: bool) -> _Writer:
    if len(delimiter) != 1 or delimiter in "\"'\r\n" or delimiter.isalnum():
        raise ValueError(f"a delimiter is one character other than a letter, digit, quote or line break; "
                         f"got {delimiter!r}")
    return _Writer(out, delimiter, quote, crlf)


def _as_is(cell: str) -> str:
    return cell


def _write_rows(writer: _Writer, header: list[str], rows: Iterator[list[str]]) -> int:
    writer.writerow(header)
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return count

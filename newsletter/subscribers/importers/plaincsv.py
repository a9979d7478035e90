"""A plain CSV with a header: ``email`` required; name, first_name, last_name, language, country,
tags, status, created_at and consent_* columns optional; every other column is an attribute.
Headers in the languages of the network are understood too ("E-Mail;Vorname;Nachname;Sprache;
Land", see headers.py).

The CSV export writes exactly this format, so an export imports back without loss:
- an attribute whose name clashes with a field is written as ``attributes.<name>``;
- an attribute holding numbers, lists or other non-text values is written as ``<name>:json``;
- an ``attributes`` column holding a JSON object is read like listmonk's.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from newsletter.subscribers.models import CONSENT_KEYS
from newsletter.subscribers.importers.base import (ATTR, ATTR_JSON, ATTRIBUTES, CONSENT, FIELD, FORMULA_START, TAGS,
                                                   CsvFormat, ColumnPlan, canonical)
from newsletter.subscribers.importers.headers import field_for

FIELDS = ("email", "name", "first_name", "last_name", "language", "country", "tags", "status", "created_at")
ALIASES = {
    "e_mail": "email", "email_address": "email", "mail": "email", "firstname": "first_name",
    "given_name": "first_name", "lastname": "last_name", "surname": "last_name",
    "family_name": "last_name", "full_name": "name", "lang": "language", "created": "created_at",
}
CONSENT_COLUMNS = {f"consent_{key}": key for key in CONSENT_KEYS}
INFIX = "name_infix"  # not a field of its own: part of the family name
JSON_SUFFIX = ":json"
ATTRIBUTE_PREFIX = "attributes."


class PlainCsv(CsvFormat):
    name = "csv"

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        if not any(kind == FIELD and key == "email" for kind, key, _ in self.plan):
            raise self.header_error(f"no 'email' column; the header has: {', '.join(self.input.header)}")
        # Whoever imports a list without consent details vouches for consent; the record says so.
        self.default_consent = {"source": f"import of {Path(self.label).name}",
                                "method": "importer-vouched", "time": self.options.now}

    def make_plan(self, header: list[str]) -> ColumnPlan:
        return [column_plan(unquote_cell(column)) for column in header]

    unquote = True  # cells quoted against formulas (the Excel export, a spreadsheet's "'+49 ...")

    def finish(self, values: dict[str, Any]) -> dict[str, Any]:
        infix = values.pop(INFIX, "").strip()
        if infix:
            values["last_name"] = f"{infix} {values.get('last_name', '').strip()}".strip()
        return values

    def explicit(self, kind: str, key: str, column: str) -> bool:
        name = canonical(column)
        return ALIASES.get(name, name) == key

    def deliberate(self, column: str) -> bool:
        return super().deliberate(column) or column.startswith(ATTRIBUTE_PREFIX)


def column_plan(column: str) -> tuple[str, str, str]:
    if column.endswith(JSON_SUFFIX):
        return ATTR_JSON, _attribute_name(column[: -len(JSON_SUFFIX)]), column
    if column.startswith(ATTRIBUTE_PREFIX):
        return ATTR, column[len(ATTRIBUTE_PREFIX):], column
    key = canonical(column)
    key = ALIASES.get(key, key)
    if key == "tags":
        return TAGS, key, column
    if key in FIELDS or key == INFIX:
        return FIELD, key, column
    if key in CONSENT_COLUMNS:
        return CONSENT, CONSENT_COLUMNS[key], column
    if key == "attributes":
        return ATTRIBUTES, key, column
    field = field_for(column)
    if field == "tags":
        return TAGS, field, column
    if field is not None:
        return FIELD, field, column
    return ATTR, column, column


def quote_for_excel(cell: str) -> str:
    """A cell Excel shows as text: an apostrophe before anything it would run as a formula."""
    return "'" + cell if cell[:1] in FORMULA_START else cell


def quote_for_import(cell: str) -> str:
    """A cell that reads back as itself: an apostrophe before one unquote_cell would shorten."""
    return "'" + cell if cell[:1] == "'" and cell[1:2] in FORMULA_START else cell


def unquote_cell(cell: str) -> str:
    """The text of a cell whose apostrophe keeps a spreadsheet from reading it as a formula
    ("'+49 711 123" -> "+49 711 123"; "'t Hooft" stays as it is)."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in FORMULA_START else cell


def _attribute_name(column: str) -> str:
    return column[len(ATTRIBUTE_PREFIX):] if column.startswith(ATTRIBUTE_PREFIX) else column


def attribute_column(name: str, text_only: bool) -> tuple[str, bool] | None:
    """The column the CSV export writes attribute ``name`` to, and whether as JSON; the
    inverse of column_plan. None: no column reads back as this name (spaces around it, ...),
    so the value goes into the ``attributes`` JSON column."""
    candidates = [(name, False), (ATTRIBUTE_PREFIX + name, False)] if text_only else []
    candidates += [(name + JSON_SUFFIX, True), (ATTRIBUTE_PREFIX + name + JSON_SUFFIX, True)]
    for column, as_json in candidates:
        kind, key, _ = column_plan(column)
        if key == name and kind == (ATTR_JSON if as_json else ATTR) and column == column.strip():
            return column, as_json
    return None

"""What the CSV formats share: a plan that says, column by column, where each cell goes.

A format only decides the plan (from the header) and the defaults; turning cells into a
Subscriber is the same for all of them, and so are the error messages.
"""
from __future__ import annotations

import csv
import json
import re
from typing import Any, Iterator

from newsletter.core.errors import SourceError
from newsletter.subscribers.importing import ImportOptions, RowError, subscriber_from, check_attribute_name, check_attributes, check_value
from newsletter.subscribers.models import InvalidValue, Subscriber, split_tags
from newsletter.subscribers.importers.csvread import CsvInput, check_header, undecodable
from newsletter.subscribers.importers.headers import SURNAME_BESIDE_FIRST, attribute_note, closest
from newsletter.subscribers.names import fold

# Where a column's cells go:
FIELD = "field"            # a Subscriber field (key: its name)
TAGS = "tags"              # 'a, b; c'
QUOTED_TAGS = "qtags"      # Mailchimp's '"a","b"'
CONSENT = "consent"        # a consent key
ATTR = "attr"              # one attribute, as text
ATTR_JSON = "attr_json"    # one attribute, as JSON
ATTRIBUTES = "attributes"  # a JSON object of attributes
SKIP = "skip"              # known, deliberately not kept (e.g. listmonk's uuid)
ColumnPlan = list[tuple[str, str, str]]  # (kind, key, column name)
# How a cell starts that a spreadsheet runs as a formula; the Excel export puts an apostrophe
# before it, and "'" itself is on the list so that the apostrophe can be taken off again
# without loss (see plaincsv.quote_for_excel, quote_for_import and unquote_cell).
FORMULA_START = frozenset("=+-@\t\r'")


class CsvFormat:
    """One CSV file in one format. Subclasses set ``plan``, ``default_consent`` and may
    override ``finish`` for values that need more than one cell."""

    name = "csv"
    unquote = False  # whether a cell "'=..." means "=..." (see plaincsv.unquote_cell)

    def __init__(self, inp: CsvInput, options: ImportOptions):
        check_header(inp.label, inp.header_line, inp.header)
        self.input = inp
        self.label = inp.label
        self.options = options
        self.notes: list[str] = []  # what the editor should know about the columns ("Note: ...", "Warning: ...")
        self.plan: ColumnPlan = self.settle(self.make_plan(inp.header))
        self.default_consent: dict[str, Any] = {}
        self._index()

    def _index(self) -> None:
        """Column positions by kind, so that a row is read with a few comprehensions
        instead of one call per cell (this is the hot loop of a large import)."""
        by_kind: dict[str, list[tuple[str, int]]] = {}
        for i, (kind, key, _) in enumerate(self.plan):
            by_kind.setdefault(kind, []).append((key, i))
        self._fields = by_kind.get(FIELD, [])
        self._attrs = by_kind.get(ATTR, [])
        self._consent = by_kind.get(CONSENT, [])
        self._other = [(kind, key, self.plan[i][2], i) for kind in (TAGS, QUOTED_TAGS, ATTR_JSON, ATTRIBUTES)
                       for key, i in by_kind.get(kind, [])]
        self._width = len(self.plan)
        self._columns = {key: column for kind, key, column in self.plan if kind in (FIELD, TAGS, QUOTED_TAGS)}
        for key, _ in self._attrs + by_kind.get(ATTR_JSON, []):
            check_attribute_name(key)

    def make_plan(self, header: list[str]) -> ColumnPlan:
        raise NotImplementedError

    def explicit(self, kind: str, key: str, column: str) -> bool:
        """Whether the column names its field exactly (not through a synonym): such a column
        wins when two columns mean the same field."""
        return True

    def deliberate(self, column: str) -> bool:
        """Whether a column is known to be an attribute (no note about it)."""
        return column in self.options.known_attributes

    def settle(self, plan: ColumnPlan) -> ColumnPlan:
        """One column per field, the family name beside a first name, and notes on the way."""
        plan = _surname_beside_first(plan)
        taken: dict[str, int] = {}
        for i, (kind, key, column) in enumerate(plan):
            if kind not in (FIELD, TAGS, QUOTED_TAGS):
                continue
            if key not in taken:
                taken[key] = i
                continue
            keep, drop = taken[key], i
            if self.explicit(kind, key, column) and not self.explicit(*plan[keep]):
                keep, drop = drop, keep
            taken[key] = keep
            dropped = plan[drop][2]
            plan[drop] = (ATTR, dropped, dropped)
            self.notes.append(f"Warning: columns {plan[keep][2]!r} and {dropped!r} both mean {key}: {plan[keep][2]!r} "
                              f"is read as {key}, {dropped!r} is kept as an attribute")
        understood = [f"{column!r} as {key}" for kind, key, column in plan
                      if kind in (FIELD, TAGS) and not self.explicit(kind, key, column)]
        if understood:
            self.notes.append("Note: columns read as subscriber fields: " + ", ".join(understood))
        unknown = [closest(column) for kind, key, column in plan
                   if kind == ATTR and key == column and not self.deliberate(column)]
        if unknown:
            self.notes.append("Warning: " + attribute_note(unknown))
        return plan

    def header_error(self, message: str) -> SourceError:
        return SourceError(self.label, self.input.header_line, None, message)

    def rows(self) -> Iterator[Subscriber | RowError]:
        return self.input.each(self.row)

    def row(self, line: int, cells: list[str]) -> Subscriber | RowError:
        if len(cells) != self._width:
            if len(cells) > self._width:
                return RowError(self.label, line, f"has {len(cells)} cells but the header names {self._width} "
                                                  "columns; check for a stray delimiter or quote")
            cells = cells + [""] * (self._width - len(cells))
        if self.unquote and "'" in "".join(cells):  # one search per row: this is the hot loop
            cells = [cell[1:] if cell[:1] == "'" and cell[1:2] in FORMULA_START else cell for cell in cells]
        reason = undecodable(cells)
        if reason:
            return RowError(self.label, line, reason)
        try:
            values = self.finish(self.values(cells))
            return subscriber_from(values, self.options, self.default_consent)
        except InvalidValue as exc:
            column = self._columns.get(exc.field)
            where = f"{column} ({exc.field})" if column and column != exc.field else exc.field
            return RowError(self.label, line, f"{where}: {exc.reason}")

    def values(self, cells: list[str]) -> dict[str, Any]:
        """The row's values by field. An empty cell means "no value"; an attribute keeps its
        text exactly as written (normalisation of the other fields happens in subscriber_from)."""
        values: dict[str, Any] = {key: cells[i] for key, i in self._fields if cells[i]}
        values["attributes"] = {key: cells[i] for key, i in self._attrs if cells[i]}
        values["consent"] = {key: cells[i] for key, i in self._consent if cells[i]}
        for kind, key, column, i in self._other:
            if cells[i].strip():
                _put(values, kind, key, column, cells[i])
        return values

    def finish(self, values: dict[str, Any]) -> dict[str, Any]:
        return values


def _put(values: dict[str, Any], kind: str, key: str, column: str, cell: str) -> None:
    if kind == TAGS:
        values["tags"] = split_tags(cell)
    elif kind == QUOTED_TAGS:
        values["tags"] = quoted_tags(cell)
    elif kind == ATTR_JSON:
        values["attributes"][key] = check_value(key, parse_json(cell, column))
    else:
        found = parse_json(cell, column)
        if not isinstance(found, dict):
            raise InvalidValue(column, f"expected a JSON object like {{\"city\": \"Lyon\"}}, got {cell[:40]!r}")
        values["attributes"].update(check_attributes(found))


_SIMPLE_QUOTED = re.compile(r'"[^"]*"(?:,"[^"]*")*')


def quoted_tags(cell: str) -> list[str]:
    """Mailchimp's '"Tag one","Tag two"'. The exact form Mailchimp writes is split directly;
    anything else (spaces, doubled quotes) goes through the csv module."""
    if _SIMPLE_QUOTED.fullmatch(cell):
        return cell[1:-1].split('","')
    return next(csv.reader([cell], skipinitialspace=True))


def parse_json(cell: str, column: str) -> Any:
    try:
        return json.loads(cell)
    except json.JSONDecodeError as exc:
        raise InvalidValue(column, f"is not valid JSON ({exc.msg} at character {exc.pos + 1})") from None


def _surname_beside_first(plan: ColumnPlan) -> ColumnPlan:
    """'Name' beside 'Vorname' (or 'First name') is the family name, not the full name."""
    keys = {key for kind, key, _ in plan if kind == FIELD}
    if "first_name" not in keys or "last_name" in keys:
        return plan
    return [(kind, "last_name", column) if kind == FIELD and key == "name" and fold(column) in SURNAME_BESIDE_FIRST
            else (kind, key, column) for kind, key, column in plan]


def canonical(column: str) -> str:
    """'First Name' -> 'first_name', 'E-Mail' -> 'e_mail'."""
    return "_".join(column.strip().lower().replace("-", " ").split())

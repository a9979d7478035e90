"""JSON Lines: one subscriber object per line, as ``subscribers export --format jsonl`` writes.
The lossless backup format: every field, typed attributes and the whole consent record."""
from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, Iterator

from newsletter.subscribers.importing import ImportOptions, RowError, subscriber_from, check_attributes
from newsletter.subscribers.models import InvalidValue, Subscriber
from newsletter.subscribers.importers.csvread import undecodable

KEYS = ("email", "name", "first_name", "last_name", "language", "country", "tags", "status",
        "attributes", "consent", "created_at")
IGNORED = ("id", "updated_at", "bounces")


class Jsonl:
    name = "jsonl"

    def __init__(self, text: io.TextIOWrapper, label: str, options: ImportOptions):
        self.text = text
        self.label = label
        self.options = options
        self.default_consent = {"source": f"import of {Path(label).name}", "method": "importer-vouched",
                                "time": options.now}

    def rows(self) -> Iterator[Subscriber | RowError]:
        for number, line in enumerate(self.text, start=1):
            if line.strip():
                yield self.row(number, line)

    def row(self, number: int, line: str) -> Subscriber | RowError:
        reason = undecodable([line])
        if reason:
            return RowError(self.label, number, reason)
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            return RowError(self.label, number, f"is not valid JSON ({exc.msg} at character {exc.pos + 1})")
        try:
            return subscriber_from(self._values(data), self.options, self.default_consent)
        except InvalidValue as exc:
            return RowError(self.label, number, str(exc))

    def _values(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise InvalidValue("line", "expected one JSON object per line")
        unknown = sorted(set(data) - set(KEYS) - set(IGNORED))
        if unknown:
            raise InvalidValue(unknown[0], f"unknown key; expected: {', '.join(KEYS)}")
        for key in ("email", "name", "first_name", "last_name", "language", "country", "status", "created_at"):
            if data.get(key) is not None and not isinstance(data[key], str):
                raise InvalidValue(key, f"expected text, got {json.dumps(data[key])[:40]}")
        values = {k: data[k] for k in KEYS if k in data}
        values["attributes"] = check_attributes(values.get("attributes") or {})
        return values

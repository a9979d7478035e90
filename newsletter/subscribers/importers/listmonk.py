"""listmonk's subscriber CSV: ``email,name,attributes`` with attributes as a JSON object.

An export from listmonk may add uuid, status (enabled, disabled, blocklisted), created_at and
updated_at. Our own listmonk export keeps what listmonk has no column for (first and last
name, language, country, tags, status, consent) under the attribute ``_newsletter``, so that
it reads back without loss; listmonk itself just shows it as one more attribute.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from newsletter.subscribers.models import InvalidValue
from newsletter.subscribers.importers.base import ATTRIBUTES, FIELD, SKIP, CsvFormat, ColumnPlan, canonical

EXTRA = "_newsletter"
EXTRA_KEYS = ("first_name", "last_name", "language", "country", "tags", "status", "consent", "created_at")
REQUIRED = ("email", "name", "attributes")
OPTIONAL = {"uuid": None, "id": None, "updated_at": None, "status": "status", "created_at": "created_at"}
STATUSES = {"enabled": None, "disabled": "unsubscribed", "blocklisted": "blocklisted"}


def looks_like(header: list[str]) -> bool:
    names = {canonical(h) for h in header}
    return set(REQUIRED) <= names and names <= set(REQUIRED) | set(OPTIONAL)


class ListmonkCsv(CsvFormat):
    name = "listmonk"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.default_consent = {"source": f"listmonk import of {Path(self.label).name}",
                                "method": "importer-vouched", "time": self.options.now}

    def make_plan(self, header: list[str]) -> ColumnPlan:
        names = [canonical(h) for h in header]
        missing = [r for r in REQUIRED if r not in names]
        unknown = [h for h, n in zip(header, names, strict=True) if n not in REQUIRED and n not in OPTIONAL]
        if missing or unknown:
            raise self.header_error(f"a listmonk CSV has the columns email, name, attributes; "
                                    f"missing: {', '.join(missing) or 'none'}; "
                                    f"unexpected: {', '.join(unknown) or 'none'}")
        plan: ColumnPlan = []
        for column, key in zip(header, names, strict=True):
            if key == "attributes":
                plan.append((ATTRIBUTES, key, column))
            elif key in ("email", "name") or OPTIONAL.get(key):
                plan.append((FIELD, key, column))
            else:
                plan.append((SKIP, key, column))
        return plan

    def finish(self, values: dict[str, Any]) -> dict[str, Any]:
        status = values.get("status")
        if status is not None and status.strip().lower() in STATUSES:
            values["status"] = STATUSES[status.strip().lower()]
        extra = values["attributes"].pop(EXTRA, None)
        if extra is None:
            return values
        if not isinstance(extra, dict) or set(extra) - set(EXTRA_KEYS):
            raise InvalidValue(f"attributes.{EXTRA}", f"expected an object with the keys {', '.join(EXTRA_KEYS)}")
        values.update({k: v for k, v in extra.items() if v is not None})
        return values

"""Sample subscribers whose values fill the merge fields in the preview.

From the subscriber store when it has anyone subscribed in the chosen segment; otherwise
from ``subscribers/sample.csv``, the example list that comes with a workspace.
"""
from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import Workspace

log = logging.getLogger(__name__)
SAMPLE_FILE = "sample.csv"
LIMIT = 50  # a menu, not a list manager
STANDARD = ("email", "name", "first_name", "last_name", "language", "country")


@dataclass(frozen=True)
class Sample:
    key: str                    # the e-mail address
    label: str                  # what the menu shows
    data: dict[str, Any]        # merge data: STANDARD fields and 'attributes'


def load_samples(ws: Workspace, segment: str) -> tuple[list[Sample], str]:
    """Up to LIMIT samples and where they came from (shown as the menu's tooltip)."""
    return _from_csv(ws.subscribers_dir / SAMPLE_FILE), f"subscribers/{SAMPLE_FILE}"


def _from_csv(path: Path) -> list[Sample]:
    if not path.is_file():
        return []
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))[:LIMIT]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        log.warning("cannot read %s: %s", path, exc)
        return []
    return [_sample(_row_data(row)) for row in rows if (row.get("email") or "").strip()]


def _row_data(row: dict[str, str | None]) -> dict[str, Any]:
    data: dict[str, Any] = {k: (row.get(k) or "").strip() for k in STANDARD}
    attributes = {}
    for column, value in row.items():
        if column and column.startswith("attributes."):
            attributes[column.split(".", 1)[1]] = (value or "").strip()
    data["attributes"] = attributes
    return data


def _sample(data: dict[str, Any]) -> Sample:
    name = data.get("name") or " ".join(p for p in (data.get("first_name"), data.get("last_name")) if p)
    label = f"{name} <{data['email']}>" if name else data["email"]
    if data.get("language"):
        label += f" ({data['language']})"
    return Sample(data["email"], label, data)

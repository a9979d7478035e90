"""Sample subscribers whose values fill the merge fields in the preview.

From the subscriber store when anyone is in it (the members of the chosen segment);
otherwise from ``subscribers/sample.csv``, the example list that comes with a workspace, read
by the same importer `newsletter subscribers import` uses and filtered by the same segment
rules. The store is opened only if its database exists: previewing never creates one.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from itertools import islice
from typing import Any, Iterable

from newsletter.core.config import Workspace
from newsletter.core.errors import NewsletterError
from newsletter.subscribers.importers import read_rows
from newsletter.subscribers.importing import ImportOptions, RowError
from newsletter.subscribers.models import Subscriber, display_name
from newsletter.subscribers.segments import Segments
from newsletter.subscribers.store import Store

log = logging.getLogger(__name__)
SAMPLE_FILE = "sample.csv"
LIMIT = 50  # a menu, not a list manager


@dataclass(frozen=True)
class Sample:
    id: int | str               # the store's id, or the address for people from the sample file
    key: str                    # the e-mail address
    label: str                  # what the menu shows
    data: dict[str, Any]        # Subscriber.merge_data()


def read_sample_file(ws: Workspace) -> list[Subscriber]:
    """Everyone in subscribers/sample.csv (rows the importer refuses are logged and left out)."""
    path = ws.subscribers_dir / SAMPLE_FILE
    if not path.is_file():
        return []
    people = []
    try:
        for row in read_rows(path, fmt="auto", options=ImportOptions(), column_map={}, encoding="utf-8", progress=None):
            if isinstance(row, Subscriber):
                # As an import stores a new person: no name given means first + last.
                people.append(row if row.name else row.copy(name=display_name(row.first_name, row.last_name)))
            elif isinstance(row, RowError):
                log.info("sample subscriber left out: %s", row)
    except NewsletterError as exc:
        log.warning("cannot read %s: %s", path, exc)
    return people


def from_store(ws: Workspace, segments: Segments, segment: str) -> list[Subscriber] | None:
    """Members of ``segment`` in the store, or None when there is no store or it is empty."""
    if not ws.db_path.is_file():
        return None
    try:
        with Store(ws.db_path, segments=segments, workspace=ws) as store:
            if next(store.iter_all(batch=1), None) is None:
                return None
            return list(islice(store.iter_segment(segment, batch=LIMIT), LIMIT))
    except NewsletterError as exc:
        log.warning("sample subscribers: %s", exc)
        return None


def choose(ws: Workspace, segments: Segments, segment: str, sample_file: list[Subscriber]) -> tuple[list[Sample], str]:
    """The menu's samples for ``segment`` and where they come from."""
    stored = from_store(ws, segments, segment)
    if stored is not None:
        return samples(stored), "your subscriber list"
    rule = segments.get(segment)
    return samples(islice((s for s in sample_file if rule.matches(s)), LIMIT)), f"subscribers/{SAMPLE_FILE}"


def samples(people: Iterable[Subscriber]) -> list[Sample]:
    out = []
    for person in people:
        data = person.merge_data()
        label = f"{data['name']} <{person.email}>" if data.get("name") else person.email
        if person.language:
            label += f" ({person.language})"
        out.append(Sample(person.id if person.id is not None else person.email, person.email, label, data))
    return out

"""The examples in docs/segments.md and docs/subscribers.md are real: they load and import."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from newsletter.subscribers.importers import import_file
from newsletter.subscribers.segments import read_segments
from newsletter.subscribers.store import Store

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _blocks(name: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", (DOCS / name).read_text(encoding="utf-8"), re.S)


@pytest.mark.parametrize("index", range(len(_blocks("segments.md", "yaml"))))
def test_every_segments_example_loads(tmp_path: Path, index: int) -> None:
    path = tmp_path / "segments.yaml"
    path.write_text(_blocks("segments.md", "yaml")[index], encoding="utf-8")
    segments = read_segments(path)
    assert len(segments) >= 2


def test_the_csv_example_imports(empty_store: Store, tmp_path: Path) -> None:
    (example,) = _blocks("subscribers.md", "csv")
    path = tmp_path / "members.csv"
    path.write_text(example, encoding="utf-8")
    summary = import_file(empty_store, path)
    assert summary.imported == 1 and summary.rejected == 0
    ana = empty_store.get("ana.lopez@example.org")
    assert ana.tags == ["leader", "member"] and ana.attributes == {"centre": "Centro de Madres Rosario",
                                                                   "role": "coordinator"}

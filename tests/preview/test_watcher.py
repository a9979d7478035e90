"""Live reload's file watching, on a real folder with real inotify events."""
from __future__ import annotations

import queue
from pathlib import Path
from typing import Iterator

import pytest

from newsletter.preview.watcher import Watcher

WAIT = 5.0


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    (tmp_path / "issues" / "2026-11").mkdir(parents=True)
    (tmp_path / "issues" / "2026-11" / "edition.yaml").write_text("number: 1\n")
    (tmp_path / "subscribers").mkdir()
    (tmp_path / "newsletter.yaml").write_text("list_id: x\n")
    return tmp_path


@pytest.fixture
def changes(ws: Path) -> Iterator[queue.Queue]:
    seen: queue.Queue = queue.Queue()
    watcher = Watcher(ws, seen.put)
    watcher.start()
    try:
        yield seen
    finally:
        watcher.stop()


def next_change(seen: queue.Queue, wanted: Path) -> set[Path]:
    """Changes delivered until one names ``wanted`` (all of them, to check what else came)."""
    got: set[Path] = set()
    while wanted not in got:
        got |= seen.get(timeout=WAIT)
    return got


def test_edition_files_are_watched(ws: Path, changes: queue.Queue) -> None:
    edition = ws / "issues" / "2026-11" / "edition.yaml"
    edition.write_text("number: 2\n")
    assert edition in next_change(changes, edition)
    folder = ws / "issues" / "2026-11" / "articles"
    folder.mkdir()
    next_change(changes, folder)
    article = folder / "new.md"
    article.write_text("hello")
    assert article in next_change(changes, article)


def test_settings_and_segments_are_watched_but_not_the_database(ws: Path, changes: queue.Queue) -> None:
    db = ws / "subscribers" / "newsletter.sqlite3"
    db.write_bytes(b"not a source")
    (ws / "subscribers" / "segments.yaml").write_text("segments: {}\n")
    got = next_change(changes, ws / "subscribers" / "segments.yaml")
    (ws / "newsletter.yaml").write_text("list_id: y\n")
    got |= next_change(changes, ws / "newsletter.yaml")
    assert db not in got


def test_a_templates_folder_created_later_is_watched(ws: Path, changes: queue.Queue) -> None:
    (ws / "templates").mkdir()
    next_change(changes, ws / "templates")
    template = ws / "templates" / "email.mjml.j2"
    # The tree loop restarts to include the new folder; keep saving until it reports the file.
    for _ in range(20):
        template.write_text("<mjml></mjml>")
        try:
            if template in next_change_once(changes):
                return
        except queue.Empty:
            continue
    pytest.fail("a change in the new templates/ folder was never reported")


def next_change_once(seen: queue.Queue) -> set[Path]:
    return seen.get(timeout=0.5)


def test_stop_ends_the_threads(ws: Path) -> None:
    watcher = Watcher(ws, lambda _paths: None)
    watcher.start()
    watcher.stop()
    assert not any(t.is_alive() for t in watcher._threads)

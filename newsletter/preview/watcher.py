"""Watching the files a preview is built from (watchfiles, on background threads).

Watched: everything under ``issues/`` and ``templates/``, plus ``newsletter.yaml``,
``subscribers/segments.yaml`` and ``subscribers/sample.csv``. The workspace root itself is
not watched recursively: in a repository it holds .git, .venv and node_modules, whose
thousands of folders would cost inotify watches and wake-ups for nothing. So one loop
watches the two source trees recursively and another watches the root and subscribers/
folders flat; when a source folder appears or disappears, both loops restart.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Callable, Iterable

from watchfiles import Change, DefaultFilter, watch

log = logging.getLogger(__name__)
TREES = ("issues", "templates")
FLAT_FILES = ("newsletter.yaml", "subscribers/segments.yaml", "subscribers/sample.csv")
SOURCE_DIRS = (*TREES, "subscribers")
# How long watchfiles waits for a burst of writes (an editor's save) to end: short, because
# the whole save-to-reload budget is small, but long enough to group a save's few events.
STEP_MS = 25
DEBOUNCE_MS = 400
TIMEOUT_MS = 100  # watchfiles wakes this often to check for stop() and to signal readiness
READY_TIMEOUT = 5.0

OnChange = Callable[[set[Path]], None]


class _StopFlag:
    """Ends one watchfiles.watch() call: when the watcher stops, or to restart it."""

    def __init__(self, stopping: threading.Event):
        self.stopping = stopping
        self.restart = threading.Event()

    def is_set(self) -> bool:
        return self.stopping.is_set() or self.restart.is_set()


class Watcher:
    """Calls ``on_change(changed paths)`` after each save, from a background thread."""

    def __init__(self, root: Path, on_change: OnChange):
        self.root = root.resolve()
        self.on_change = on_change
        self._stopping = threading.Event()
        self._flags: list[_StopFlag] = []
        self._threads: list[threading.Thread] = []
        self._tree_filter = DefaultFilter()
        self._flat = {self.root / f for f in FLAT_FILES}

    def start(self) -> None:
        ready = []
        for name, paths, recursive in (("tree", self._tree_paths, True), ("flat", self._flat_paths, False)):
            event = threading.Event()
            thread = threading.Thread(target=self._loop, args=(paths, recursive, event),
                                      name=f"preview-watch-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
            ready.append(event)
        # Return only once both loops watch: a save right after start() must not be missed.
        if not all(event.wait(READY_TIMEOUT) for event in ready):
            log.warning("file watching did not start within %s s; live reload may miss changes", READY_TIMEOUT)

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=5)

    def _tree_paths(self) -> list[Path]:
        return [self.root / t for t in TREES if (self.root / t).is_dir()]

    def _flat_paths(self) -> list[Path]:
        return [self.root] + ([self.root / "subscribers"] if (self.root / "subscribers").is_dir() else [])

    def _loop(self, paths_of: Callable[[], list[Path]], recursive: bool, ready: threading.Event) -> None:
        while not self._stopping.is_set():
            flag = _StopFlag(self._stopping)
            self._flags.append(flag)
            try:
                self._watch(paths_of(), recursive, ready, flag)
            except Exception:  # a vanished folder, a full inotify table: keep watching after a pause
                log.exception("file watching failed; retrying")
                self._stopping.wait(1)
            finally:
                self._flags.remove(flag)

    def _watch(self, paths: list[Path], recursive: bool, ready: threading.Event, flag: _StopFlag) -> None:
        if not paths:
            # Nothing to watch yet (no issues/ folder): the flat loop restarts us when one appears.
            ready.set()
            while not flag.is_set():
                flag.restart.wait(0.2)
            return
        watch_filter = self._tree_filter if recursive else self._flat_filter
        for changes in watch(*paths, watch_filter=watch_filter, debounce=DEBOUNCE_MS, step=STEP_MS,
                             stop_event=flag, rust_timeout=TIMEOUT_MS, yield_on_timeout=True, recursive=recursive):
            ready.set()  # the first yield, even an empty one, means the watches are in place
            if changes:
                self._deliver(changes)

    def _flat_filter(self, change: Change, path: str) -> bool:
        p = Path(path)
        if p in self._flat:
            return True
        # A source folder was created or removed: the loops must watch a different set.
        return p.parent == self.root and p.name in SOURCE_DIRS and change != Change.modified

    def _deliver(self, changes: Iterable[tuple[Change, str]]) -> None:
        paths = {Path(p) for _, p in changes}
        if any(p.parent == self.root and p.name in SOURCE_DIRS for p in paths):
            for flag in list(self._flags):
                flag.restart.set()
        log.debug("changed: %s", ", ".join(sorted(map(str, paths))))
        try:
            self.on_change(paths)
        except Exception:  # the server must survive whatever a refresh does
            log.exception("refreshing after a change failed")

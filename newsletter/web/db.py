"""The subscriber store from async endpoints: each threadpool thread keeps its own SQLite
connection (a connection belongs to one thread), blocking work runs in the threadpool, and
this process's writes take turns on a lock, so they queue in Python instead of spinning in
SQLite's busy handler (whose sleeps would add tens of milliseconds to a burst of one-click
unsubscribes). Other processes (a running `send`) are kept apart by SQLite itself (WAL)."""
from __future__ import annotations

import threading
from typing import Any, Callable, TypeVar

from starlette.concurrency import run_in_threadpool

from newsletter.core.config import Workspace
from newsletter.subscribers.signups import Signups
from newsletter.subscribers.store import Store

T = TypeVar("T")


class Database:
    def __init__(self, ws: Workspace):
        self.ws = ws
        self._local = threading.local()
        self._write = threading.Lock()
        self._all: list[Store] = []
        self._all_lock = threading.Lock()

    def _signups(self) -> Signups:
        found = getattr(self._local, "signups", None)
        if found is None:
            store = Store.open(self.ws)
            found = self._local.signups = Signups(store)
            with self._all_lock:
                self._all.append(store)
        return found

    def prepare(self) -> None:
        """Open (and migrate) the database once before serving, so a problem shows at start."""
        self._signups()

    async def read(self, work: Callable[[Signups], T]) -> T:
        return await run_in_threadpool(lambda: work(self._signups()))

    async def write(self, work: Callable[[Signups], T]) -> T:
        def locked() -> T:
            signups = self._signups()
            with self._write:
                return work(signups)
        return await run_in_threadpool(locked)

    def close(self) -> None:
        with self._all_lock:
            for store in self._all:
                try:
                    store.close()
                except Exception:  # a connection of another thread: SQLite refuses; the process ends anyway
                    pass
            self._all.clear()


def store_of(signups: Signups) -> Store:
    return signups.store


__all__ = ["Database", "store_of", "Any"]

"""The subscriber store from async endpoints. Blocking SQLite work runs in threads, never on
the event loop: all writes of this process in one writer thread (they are serialised by
SQLite anyway; one thread means they queue in the event loop instead of as blocked threads
fighting over the GIL and SQLite's busy handler, whose sleeps would add tens of milliseconds
to a burst of one-click unsubscribes), reads in a few reader threads. Each thread keeps its own
connection (a connection belongs to one thread). Other processes (a running `send`) are kept
apart by SQLite itself (WAL, busy timeout)."""
from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, TypeVar

from newsletter.core.config import Workspace
from newsletter.subscribers.signups import Signups
from newsletter.subscribers.store import Store

T = TypeVar("T")
READERS = 4


class Database:
    def __init__(self, ws: Workspace):
        self.ws = ws
        self._local = threading.local()
        self._opened: list[Store] = []
        self._lock = threading.Lock()
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="db-write")
        self._readers = ThreadPoolExecutor(READERS, thread_name_prefix="db-read")

    def _signups(self) -> Signups:
        found = getattr(self._local, "signups", None)
        if found is None:
            store = Store.open(self.ws)
            found = self._local.signups = Signups(store)
            with self._lock:
                self._opened.append(store)
        return found

    def prepare(self) -> None:
        """Open (and migrate) the database once before serving, so a problem shows at start."""
        self._writer.submit(self._signups).result()

    async def read(self, work: Callable[[Signups], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._readers, lambda: work(self._signups()))

    async def write(self, work: Callable[[Signups], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._writer, lambda: work(self._signups()))

    def close(self) -> None:
        """Close every thread's connection in its own thread, then stop the threads."""
        for pool, count in ((self._writer, 1), (self._readers, READERS)):
            barrier = threading.Barrier(count)

            def close_mine() -> None:
                store = getattr(self._local, "signups", None)
                if store is not None:
                    store.store.close()
                    self._local.signups = None
                try:
                    barrier.wait(timeout=1)  # every thread of the pool takes one
                except threading.BrokenBarrierError:
                    pass

            for _ in range(count):
                pool.submit(close_mine)
            pool.shutdown(wait=True)

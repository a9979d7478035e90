"""The change counter that open pages follow through Server-Sent Events.

Every finished refresh increments ``Hub.generation``; each `/events` connection waits for
the number to change and then tells its page to reload. A page also carries the number it
was built from, so a change that lands between building the page and connecting is not lost.
"""
from __future__ import annotations

import threading


class Hub:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._generation = 0
        self._closed = False

    @property
    def generation(self) -> int:
        with self._cond:
            return self._generation

    @property
    def closed(self) -> bool:
        with self._cond:
            return self._closed

    def bump(self) -> int:
        with self._cond:
            self._generation += 1
            self._cond.notify_all()
            return self._generation

    def wait(self, seen: int, timeout: float) -> int:
        """The generation once it differs from ``seen``, or ``seen`` after ``timeout`` seconds
        (or at once when the hub is closed)."""
        with self._cond:
            self._cond.wait_for(lambda: self._generation != seen or self._closed, timeout)
            return self._generation

    def close(self) -> None:
        """Release every waiting connection (the server is stopping)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

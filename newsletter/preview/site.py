"""What the preview shows, built on demand and kept until a source file changes.

Loading and rendering are the same calls `newsletter check` and `newsletter send` make; the
preview only caches their results (and their errors: a broken file is reported from the
cache until it changes, not re-read on every request). A change under ``issues/<name>/``
forgets only that edition; any other change (settings, segments, templates) forgets all.
After a change the variants that were looked at last are rendered again at once, before open pages
are told to reload, so the reload itself is served from the cache.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Hashable

from newsletter.check.checker import linters
from newsletter.check.findings import Finding
from newsletter.compose.composer import Composer
from newsletter.core.config import Workspace, load_workspace
from newsletter.content.loader import LoadedEdition, edition_names, load_edition
from newsletter.render import Rendering, render, variants
from newsletter.render.variant import RenderedVariant
from newsletter.subscribers.segments import Segments, load_segments
from newsletter.preview.message import PreviewMessage, composer_for, message_for
from newsletter.preview.samples import Sample, choose, read_sample_file

log = logging.getLogger(__name__)
WARM_KEEP = 4  # how many recently viewed variants are rendered again right after a change


@dataclass(frozen=True)
class VariantKey:
    edition: str
    language: str
    audiences: tuple[str, ...]


@dataclass(frozen=True)
class _Failed:
    """A cached failure: raised again to every caller until a source file changes."""

    error: Exception


class Site:
    """Thread-safe cache of the workspace, its editions, rendered variants and lint results."""

    def __init__(self, root: Path):
        self.root = root.resolve()
        self._lock = threading.RLock()
        self._cache: dict[Hashable, Any] = {}
        self._key_locks: dict[Hashable, threading.Lock] = {}
        self._epoch = 0  # incremented by every invalidation
        self._recent: OrderedDict[VariantKey, None] = OrderedDict()
        self.last_refresh_seconds: float | None = None

    # -- what the pages ask for --------------------------------------------------------------

    def workspace(self) -> Workspace:
        return self._cached(("ws",), lambda: load_workspace(self.root))

    def edition_names(self) -> list[str]:
        return self._cached(("names",), lambda: edition_names(self.workspace()))

    def segments(self) -> Segments:
        """The segments of subscribers/segments.yaml ('all' first)."""
        return self._cached(("segments",), lambda: load_segments(self.workspace()))

    def samples(self, segment: str) -> tuple[list[Sample], str]:
        """Sample subscribers in ``segment`` for the merge fields, and where they come from.
        The store is read on every call (its changes are not watched); the sample file is cached."""
        sample_file = self._cached(("sample-file",), lambda: read_sample_file(self.workspace()))
        return choose(self.workspace(), self.segments(), segment, sample_file)

    def edition(self, name: str) -> LoadedEdition:
        # The segments come from the cache: re-reading segments.yaml for every save of an
        # edition would cost a YAML parse out of the refresh budget.
        return self._cached(("edition", name), lambda: load_edition(self.workspace(), name, set(self.segments().names)))

    def variant(self, key: VariantKey) -> RenderedVariant:
        return self._rendering(key).variant

    def message(self, key: VariantKey, sample: Sample | None) -> PreviewMessage:
        """The variant as ``sample`` (or a nameless reader) receives it, headers included.
        Remembered as looked at, for warm()."""
        with self._lock:
            self._recent[key] = None
            self._recent.move_to_end(key)
            while len(self._recent) > WARM_KEEP:
                self._recent.popitem(last=False)
        return message_for(self._composer(key), sample)

    def _composer(self, key: VariantKey) -> Composer:
        return self._cached(("composer", key), lambda: composer_for(self.variant(key), self.workspace().settings))

    def mjml(self, key: VariantKey) -> str:
        """The MJML the variant was generated from."""
        return self._rendering(key).mjml

    def _rendering(self, key: VariantKey) -> Rendering:
        return self._cached(("rendering", key), lambda: self._render(key))

    def lint(self, name: str) -> list[Finding]:
        """The findings `newsletter check` reports for this edition."""
        return self._cached(("lint", name), lambda: self._lint(name))

    def variants(self, name: str) -> list[tuple[str, tuple[str, ...]]]:
        """(language, audiences) of every variant `newsletter send` would render."""
        return self._cached(("variants", name), lambda: self._variants(name))

    # -- change handling ---------------------------------------------------------------------

    def invalidate(self, changed: set[Path]) -> None:
        editions = self._editions_touched(changed)
        with self._lock:
            self._epoch += 1
            if editions is None:
                self._cache.clear()
                return
            for key in list(self._cache):
                if key == ("names",) or _edition_of(key) in editions:
                    del self._cache[key]

    def warm(self) -> float:
        """Render again the variants looked at last (rendered and ready to compose); returns the
        seconds it took."""
        start = time.perf_counter()
        with self._lock:
            recent = list(self._recent)
        for key in reversed(recent):  # the one looked at last first
            try:
                self._composer(key)  # the variant rendered, and its composer: what the page needs
            except Exception:  # cached; the page shows it
                pass
        self.last_refresh_seconds = time.perf_counter() - start
        return self.last_refresh_seconds

    def _editions_touched(self, changed: set[Path]) -> set[str] | None:
        """The editions whose folders hold every changed path, or None when anything else changed."""
        issues = self.root / "issues"
        names = set()
        for path in changed:
            try:
                rel = path.resolve().relative_to(issues)
            except ValueError:
                return None
            if len(rel.parts) < 2:  # an edition folder itself was added or removed
                return None
            names.add(rel.parts[0])
        return names

    # -- making -------------------------------------------------------------------------------

    def _cached(self, key: Hashable, make: Callable[[], Any]) -> Any:
        """The cached value of ``key``, made once. One lock per key, not one for the cache:
        the checks of a whole edition (every variant rendered) must not hold up the frame
        asking for the one variant that is already rendered."""
        with self._lock:
            if key in self._cache:
                return _unwrap(self._cache[key])
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._cache:  # made by another thread meanwhile
                    return _unwrap(self._cache[key])
                epoch = self._epoch
            value = self._make(key, make)
            with self._lock:
                # A file changed while making it: the value may be stale; serve it once, don't keep it.
                if epoch == self._epoch:
                    self._cache[key] = value
        return _unwrap(value)

    @staticmethod
    def _make(key: Hashable, make: Callable[[], Any]) -> Any:
        try:
            return make()
        except Exception as exc:  # noqa: BLE001 - every failure is shown in the page
            if not _is_editors_mistake(exc):
                log.exception("making %s failed", key)
            return _Failed(exc)

    def _render(self, key: VariantKey) -> Rendering:
        return render(self.workspace(), self.edition(key.edition), key.language, key.audiences,
                      asset_base_url=asset_base_url(key.edition))

    def _variants(self, name: str) -> list[tuple[str, tuple[str, ...]]]:
        return variants(self.workspace(), self.edition(name))

    def _lint(self, name: str) -> list[Finding]:
        ws, loaded = self.workspace(), self.edition(name)
        return [finding for lint in linters() for finding in lint(ws, loaded)]


def _unwrap(value: Any) -> Any:
    if isinstance(value, _Failed):
        raise value.error
    return value


def asset_base_url(edition: str) -> str:
    """Where the preview serves an edition's local images (see the `files` route)."""
    return f"/e/{edition}/files/"


def _edition_of(key: Hashable) -> str | None:
    if not isinstance(key, tuple) or len(key) < 2:
        return None
    second = key[1]
    return second.edition if isinstance(second, VariantKey) else second if isinstance(second, str) else None


def _is_editors_mistake(exc: Exception) -> bool:
    from newsletter.core.errors import NewsletterError

    return isinstance(exc, NewsletterError)

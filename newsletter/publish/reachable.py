"""Before a send: do the edition's public addresses answer? A HEAD request per image, archive
page and calendar file the email links to, in parallel, with a short timeout.

An email whose images are not online yet goes out broken and cannot be fixed afterwards;
`newsletter send` refuses until `newsletter publish` has put them there.
"""
from __future__ import annotations

import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import quote

from newsletter.content.loader import LoadedEdition
from newsletter.core.config import Workspace
from newsletter.render.calendar import edition_events
from newsletter.render.context import archive_url, default_asset_base_url
from newsletter.render.images import edition_images

TIMEOUT = 5.0
WORKERS = 16


@dataclass(frozen=True)
class Missing:
    url: str
    problem: str


def public_urls(ws: Workspace, loaded: LoadedEdition, asset_base_url: str | None = None) -> list[str]:
    """Every address of ours the edition's emails show or link to: its images (and a local
    logo), its archive pages and the calendar files of its public events."""
    base = asset_base_url or default_asset_base_url(ws, loaded.name)
    base = base if base.endswith("/") else base + "/"
    urls = [base + quote(p.name) for p in edition_images(ws, loaded).all()]
    if loaded.edition.archive:
        archive = default_asset_base_url(ws, loaded.name)
        for lang in loaded.edition.languages:
            urls.append(archive_url(ws, loaded.name, lang))
            urls += [archive + e.ics_name(lang) for e in edition_events(loaded) if e.audience is None]
    return list(dict.fromkeys(urls))


def check_urls(urls: list[str], timeout: float = TIMEOUT) -> list[Missing]:
    """The addresses that do not answer 2xx (after redirects), in the order given."""
    if not urls:
        return []
    with ThreadPoolExecutor(min(WORKERS, len(urls))) as pool:
        results = list(pool.map(lambda u: _head(u, timeout), urls))
    return [Missing(u, p) for u, p in zip(urls, results) if p is not None]


def _head(url: str, timeout: float) -> str | None:
    request = urllib.request.Request(url, method="HEAD", headers={"User-Agent": "newsletter-publish-check"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return None if 200 <= response.status < 300 else f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"no answer ({reason})"


def unpublished(ws: Workspace, loaded: LoadedEdition, asset_base_url: str | None = None,
                timeout: float = TIMEOUT) -> list[Missing]:
    return check_urls(public_urls(ws, loaded, asset_base_url), timeout)

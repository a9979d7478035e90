"""`newsletter publish`: build the site for the chosen editions and bring it to a target."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from newsletter.core.config import Workspace
from newsletter.content.loader import resolve_name
from newsletter.publish.site import MANIFEST, Site, build_site, choose_editions
from newsletter.publish.targets import Progress, SyncReport, Target, target_for


@dataclass
class PublishResult:
    target: Target
    site: Site
    report: SyncReport


def published_before(target: Target) -> list[str]:
    """The editions the site already holds (its editions.json), so none drops off the index."""
    raw = target.read(MANIFEST)
    try:
        names = json.loads(raw or b"{}").get("editions", [])
    except (ValueError, AttributeError):
        return []
    return [n for n in names if isinstance(n, str)]


def publish(ws: Workspace, editions: list[str], to: str | None = None, *, dry_run: bool = False,
            today: dt.date | None = None, progress: Progress | None = None) -> PublishResult:
    target = target_for(to or ws.settings.publish.target, ws.root)
    named = [resolve_name(ws, e) for e in editions]
    names = choose_editions(ws, named, published_before(target), today or dt.date.today())
    site = build_site(ws, names, named=named)
    report = target.sync(site.files, dry_run=dry_run, progress=progress)
    return PublishResult(target, site, report)

"""The local preview: every variant of an edition in the browser, rendered again on every save.

``PreviewServer(root).start()`` serves ``root``'s editions on 127.0.0.1; see server.py for the
HTTP side, app.py for the routes, site.py for rendering and caching, watcher.py for live reload.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from newsletter.core.config import SETTINGS_FILE, find_workspace
from newsletter.content.loader import EDITION_FILE, resolve_name
from newsletter.core.errors import SourceError, ValidationFailed, WorkspaceNotFound
from newsletter.core.validation import suggest
from newsletter.preview.server import PreviewError, PreviewServer

__all__ = ["PreviewError", "PreviewServer", "edition_path", "workspace_root"]


def workspace_root(folder: Path | None) -> Path:
    """The workspace folder, found without reading its settings (they may be broken)."""
    root = folder.resolve() if folder else find_workspace()
    if not (root / SETTINGS_FILE).is_file():
        raise WorkspaceNotFound(f"{root} is not a workspace: it has no {SETTINGS_FILE}")
    return root


def edition_path(root: Path, edition: str | None) -> str:
    """The preview's address of an edition ('' for the list), or a clear error naming the folder."""
    if not edition:
        return ""
    name = resolve_name(None, edition)  # type: ignore[arg-type]  # the workspace is not needed
    issues = root / "issues"
    if (issues / name / EDITION_FILE).is_file():
        return f"e/{quote(name)}/"
    known = sorted(p.parent.name for p in issues.glob(f"*/{EDITION_FILE}"))
    hint = suggest(name, known) or (f"; editions: {', '.join(known)}" if known else "")
    raise ValidationFailed([SourceError(issues / name / EDITION_FILE, None, None, f"no edition {name!r}{hint}")])

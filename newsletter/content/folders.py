"""Where editions live: ``issues/<name>/edition.yaml``."""
from __future__ import annotations

from newsletter.core.config import Workspace

EDITION_FILE = "edition.yaml"


def edition_names(ws: Workspace) -> list[str]:
    """The editions of the workspace: folders under issues/ that hold an edition.yaml."""
    return [n for n in ws.editions() if (ws.issues_dir / n / EDITION_FILE).is_file()]

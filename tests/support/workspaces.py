"""Fixture workspaces: copies of the repository's sample workspaces holding only the editions
the tests are written against.

An editor may add an edition to the repository's workspace (that is what it is for: `make
demo`, trying things out). Tests never see it: every workspace a test reads is a copy made
here, with the editions named below and nothing else. A test that needs another edition
names it too.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterable

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_EDITIONS = ("2026-10", "2026-11")     # the international network (the repository root)
EXAMPLE_EDITIONS = ("2026-11",)              # examples/namc
# label -> (workspace, editions): the sample editions the render, check and golden tests use.
SAMPLE_WORKSPACES = {
    "root": (ROOT, SAMPLE_EDITIONS),
    "namc": (ROOT / "examples" / "namc", EXAMPLE_EDITIONS),
}
_NOT_WORKSPACE = shutil.ignore_patterns(".venv", ".git", "build", "outbox", "*.sqlite3*", "secret.key", "tools",
                                        "tests", "bench", "node_modules", "__pycache__", ".pytest_cache")


def copy_workspace(src: Path, dest: Path, editions: Iterable[str]) -> Path:
    """A throw-away copy of the workspace ``src`` holding only the named ``editions`` (no
    database, build or outbox). A named edition that does not exist is an error."""
    dest.mkdir(parents=True)
    for name in ("newsletter.yaml", "templates", "subscribers", "assets"):
        if (src / name).is_dir():
            shutil.copytree(src / name, dest / name, ignore=_NOT_WORKSPACE)
        elif (src / name).exists():
            shutil.copy2(src / name, dest / name)
    (dest / "issues").mkdir()
    for edition in editions:
        folder = src / "issues" / edition
        if not (folder / "edition.yaml").is_file():
            raise FileNotFoundError(f"{folder} is not an edition; the test fixtures name it")
        shutil.copytree(folder, dest / "issues" / edition, ignore=_NOT_WORKSPACE)
    return dest


def edit_edition(ws: Path, edition: str, old: str, new: str, count: int = 1) -> None:
    """Replace ``old`` (which must be there) by ``new`` in an edition's edition.yaml, as an
    editor would; ``count=-1`` replaces every occurrence."""
    path = ws / "issues" / edition / "edition.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")

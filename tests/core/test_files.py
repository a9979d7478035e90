"""core.files: the one atomic writer and the one way a path is shown."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from newsletter.core.files import atomic_write, display_path


def test_the_new_content_replaces_the_old_only_when_complete(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("old\n")
    with pytest.raises(RuntimeError):
        with atomic_write(path, text=True) as fh:
            fh.write("half of the new")
            raise RuntimeError("disk full")
    assert path.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.csv"]  # no temporary file left
    with atomic_write(path, text=True) as fh:
        fh.write("new\r\nlines as written\n")
    assert path.read_bytes() == b"new\r\nlines as written\n"


def test_bytes_and_named_temporaries(tmp_path: Path) -> None:
    path = tmp_path / "m.eml"
    seen = []
    with atomic_write(path, prefix=".tmp-", suffix=".eml") as fh:
        fh.write(b"\xff bytes")
        seen = [p.name for p in tmp_path.iterdir()]
    assert len(seen) == 1 and seen[0].startswith(".tmp-") and seen[0].endswith(".eml")
    assert path.read_bytes() == b"\xff bytes"


def test_a_path_is_shown_from_the_current_folder_then_the_workspace(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    inner = root / "issues" / "2026-11"
    inner.mkdir(parents=True)
    file = inner / "edition.yaml"
    assert display_path(file, root) == "issues/2026-11/edition.yaml"
    assert display_path(file, root, cwd=inner) == "edition.yaml"
    assert display_path(file, root, cwd=tmp_path / "elsewhere") == "issues/2026-11/edition.yaml"
    assert display_path(tmp_path / "other.csv", root) == str(tmp_path / "other.csv")
    assert display_path("relative/as/written.yaml", root) == "relative/as/written.yaml"
    assert display_path("environment variable NEWSLETTER_X", root) == "environment variable NEWSLETTER_X"


def test_a_path_through_a_symlink_is_shown_inside_the_workspace(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    (root / "templates").mkdir(parents=True)
    (root / "templates" / "email.mjml.j2").write_text("x")
    os.symlink(root, tmp_path / "link")
    assert display_path(tmp_path / "link" / "templates" / "email.mjml.j2", root) == "templates/email.mjml.j2"

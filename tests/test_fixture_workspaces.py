"""An edition an editor adds to the repository's workspace never breaks the test suite.

The repository root is a working sample workspace: editors run `make demo` there and try
`newsletter new`. The tests read fixture copies that hold only the editions they name
(tests/support/workspaces.py). This test proves it on a copy of the repository with extra
editions of every kind an editor leaves behind: a fresh skeleton, a copy of last month, a
half-written one that does not load, one in examples/namc too. It runs a few tests that used to
see such editions (and collects the sample-edition tests) against that copy.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from newsletter.cli import main
from tests.support.workspaces import EXAMPLE_EDITIONS, ROOT, SAMPLE_EDITIONS, copy_workspace

# Tests that failed on a repository with an extra edition while the fixtures copied the whole
# workspace and the sample editions were "whatever exists".
SENSITIVE = [
    "tests/preview/test_command.py::test_unknown_edition_is_refused_with_a_suggestion",
    "tests/preview/test_http.py::test_unknown_edition_is_404_with_a_link_back",
    "tests/publish/test_build.py::test_an_unknown_edition_is_a_clear_error",
    "tests/test_cli.py::test_new_edition_checks_clean_and_like_copies",
]
EXTRA = ("2026-12", "2027-01", "2027-02")


def repository_copy(dest: Path) -> Path:
    ignore = shutil.ignore_patterns(".venv", ".git", "build", "outbox", "*.sqlite3*", "secret.key", "node_modules",
                                    "__pycache__", ".pytest_cache", "bench", "docs", "*.egg-info")
    return Path(shutil.copytree(ROOT, dest, ignore=ignore))


def add_editor_editions(repo: Path) -> None:
    new = CliRunner()
    for args in (["new"], ["new", "--like", "2026-11"]):  # 2026-12: a skeleton; 2027-01: a copy
        result = new.invoke(main, ["-C", str(repo), *args])
        assert result.exit_code == 0, result.output
    broken = repo / "issues" / EXTRA[2]
    broken.mkdir()
    (broken / "edition.yaml").write_text("number: 14\nsubject: [half written\n", encoding="utf-8")
    shutil.copytree(repo / "issues" / EXTRA[2], repo / "examples" / "namc" / "issues" / EXTRA[2])


def test_fixture_workspaces_hold_only_the_named_editions(tmp_path: Path) -> None:
    repo = repository_copy(tmp_path / "repo")
    add_editor_editions(repo)
    ws = copy_workspace(repo, tmp_path / "ws", SAMPLE_EDITIONS)
    assert sorted(p.name for p in (ws / "issues").iterdir()) == sorted(SAMPLE_EDITIONS)
    namc = copy_workspace(repo / "examples" / "namc", tmp_path / "namc", EXAMPLE_EDITIONS)
    assert sorted(p.name for p in (namc / "issues").iterdir()) == sorted(EXAMPLE_EDITIONS)


def test_the_suite_passes_with_extra_editions_in_the_repository(tmp_path: Path) -> None:
    repo = repository_copy(tmp_path / "repo")
    add_editor_editions(repo)
    assert {p.name for p in (repo / "issues").iterdir()} >= set(EXTRA)
    env = {**os.environ, "PYTHONPATH": str(repo)}
    base = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "-o", "addopts="]
    collected = subprocess.run([*base, "--collect-only", "tests/render/test_samples.py"], cwd=repo, env=env,
                               capture_output=True, text=True, timeout=300)
    assert collected.returncode == 0, collected.stdout + collected.stderr
    assert "root/2026-11" in collected.stdout and "namc/2026-11" in collected.stdout
    for extra in EXTRA:
        assert extra not in collected.stdout, f"the sample tests picked up the editor's edition {extra}"
    ran = subprocess.run([*base, *SENSITIVE], cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-2000:]
    assert f"{len(SENSITIVE)} passed" in ran.stdout

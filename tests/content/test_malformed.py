"""Every malformed edition in the corpus gives exactly the expected file:line:column errors,
through the real CLI, with exit code 1 and no traceback."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import main

from .cases import CASES, Case


def write_case(ws: Path, case: Case) -> None:
    folder = ws / "issues" / "bad"
    folder.mkdir(parents=True)
    for path, text in [(folder / "edition.yaml", case.edition), *((folder / n, t) for n, t in case.files.items()),
                       *((ws / n, t) for n, t in case.outside.items())]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    for name, target in case.links.items():
        (folder / name).symlink_to(target)


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 53  # 23 before issue 16, at least 30 added


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_malformed_edition(sample_ws: Path, case: Case) -> None:
    write_case(sample_ws, case)
    result = CliRunner().invoke(main, ["-C", str(sample_ws), "check", "bad", *(["--strict"] if case.strict else [])])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.startswith("issues/")]
    assert lines == case.expected
    if case.strict:  # one verdict: no "ok" before the failure
        assert "fail --strict" in result.output and ": ok -" not in result.output

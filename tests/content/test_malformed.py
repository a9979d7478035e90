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
    (folder / "edition.yaml").write_text(case.edition, encoding="utf-8")
    for name, text in case.files.items():
        (folder / name).write_text(text, encoding="utf-8")


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 15


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_malformed_edition(sample_ws: Path, case: Case) -> None:
    write_case(sample_ws, case)
    result = CliRunner().invoke(main, ["-C", str(sample_ws), "check", "bad"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.startswith("issues/")]
    assert lines == case.expected

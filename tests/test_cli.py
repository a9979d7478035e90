"""The foundation's 'Done when' through the real command line."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import main


def run(ws: Path, *args: str):
    return CliRunner().invoke(main, ["-C", str(ws), *args])


def test_sample_editions_check_clean(sample_ws: Path) -> None:
    result = run(sample_ws, "check")
    assert result.exit_code == 0, result.output
    assert "2026-11: ok" in result.output and "2026-10: ok" in result.output


def test_example_workspace_checks_clean(example_ws: Path) -> None:
    result = run(example_ws, "check")
    assert result.exit_code == 0, result.output


def test_unknown_top_level_key_appended(sample_ws: Path) -> None:
    path = sample_ws / "issues" / "2026-11" / "edition.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines) + "\nsponsor: ACME\n", encoding="utf-8")
    result = run(sample_ws, "check", "2026-11")
    assert result.exit_code == 1
    assert f"issues/2026-11/edition.yaml:{len(lines) + 1}:1: sponsor: unknown key 'sponsor'" in result.output
    assert "Traceback" not in result.output


def test_yaml_syntax_error_appended(sample_ws: Path) -> None:
    path = sample_ws / "issues" / "2026-10" / "edition.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines) + "\nfooter: Thanks: see you\n", encoding="utf-8")
    result = run(sample_ws, "check", "2026-10")
    assert result.exit_code == 1
    assert (f"issues/2026-10/edition.yaml:{len(lines) + 1}:15: YAML syntax error: mapping values are not "
            "allowed in this context; a text holding ': ' needs quotes around it") in result.output
    assert "Traceback" not in result.output


def test_errors_of_all_editions_are_shown_together(sample_ws: Path) -> None:
    for name in ("2026-10", "2026-11"):
        path = sample_ws / "issues" / name / "edition.yaml"
        path.write_text(path.read_text(encoding="utf-8") + "oops: 1\n", encoding="utf-8")
    result = run(sample_ws, "check")
    assert result.exit_code == 1
    assert "issues/2026-10/edition.yaml" in result.output and "issues/2026-11/edition.yaml" in result.output
    assert "Error: 2 errors" in result.output


def test_debug_shows_the_traceback(sample_ws: Path) -> None:
    path = sample_ws / "issues" / "2026-10" / "edition.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "oops: 1\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["--debug", "-C", str(sample_ws), "check"])
    assert result.exit_code != 0
    assert result.exc_info is not None and result.exc_info[0].__name__ == "ValidationFailed"


def test_strict_turns_warnings_into_failure(sample_ws: Path) -> None:
    # The November edition has texts that fall back to English in Spanish (warnings).
    assert run(sample_ws, "check", "2026-11").exit_code == 0
    result = run(sample_ws, "check", "--strict", "2026-11")
    assert result.exit_code == 1
    assert "es: blocks[3] article" in result.output


def test_new_edition_checks_clean_and_like_copies(sample_ws: Path) -> None:
    result = run(sample_ws, "new", "--date", "2027-01")
    assert result.exit_code == 0, result.output
    checked = run(sample_ws, "check", "2027-01")   # valid YAML and schema; only the TODO texts fail
    assert checked.exit_code == 1
    assert all("placeholder text 'TODO" in line for line in checked.output.splitlines()
               if line.startswith("issues/")), checked.output
    text = (sample_ws / "issues" / "2027-01" / "edition.yaml").read_text()
    assert "number: 15" in text
    result = run(sample_ws, "new", "--like", "2026-11")
    assert result.exit_code == 0, result.output
    copied = (sample_ws / "issues" / "2027-02" / "edition.yaml").read_text()
    assert "number: 16" in copied and "date: 2027-02-01" in copied
    assert (sample_ws / "issues" / "2027-02" / "articles" / "peer-learning.de.md").exists()
    assert run(sample_ws, "check", "2027-02").exit_code == 0   # warnings only (same subject as 2026-11)
    again = run(sample_ws, "new", "--date", "2027-01")
    assert again.exit_code == 1 and "already exists" in again.output


def test_schema_describes_every_block_type() -> None:
    result = CliRunner().invoke(main, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    text = json.dumps(schema)
    for block in ("hero", "article", "events", "cta", "resources", "quote", "image", "cards", "divider", "markdown"):
        assert f'"const": "{block}"' in text
    assert schema["properties"]["subject"]["anyOf"][0] == {"type": "string"}


def test_unknown_edition_suggests(sample_ws: Path) -> None:
    result = run(sample_ws, "check", "2026-1")
    assert result.exit_code == 1
    assert "no edition '2026-1'; did you mean" in result.output


def test_python_dash_m_and_help() -> None:
    out = subprocess.run([sys.executable, "-m", "newsletter", "--help"], capture_output=True, text=True,
                         env={**os.environ}, check=True).stdout
    for command in ("check", "new", "schema"):
        assert command in out
    assert "Exit codes" in out


def test_committed_schema_is_current() -> None:
    """edition.schema.json at the root (used by the sample editions' editor hint) is fresh;
    refresh it with: newsletter schema -o edition.schema.json"""
    root = Path(__file__).resolve().parent.parent
    result = CliRunner().invoke(main, ["schema"])
    assert (root / "edition.schema.json").read_text(encoding="utf-8") == result.output

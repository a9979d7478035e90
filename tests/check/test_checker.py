"""check.checker: run_check over a workspace (validation, then every linter), its findings,
and what `newsletter check` does with them (exit codes, --strict, --quiet)."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.check.checker import linters, run_check, source_findings
from newsletter.check.findings import EditionReport, Finding
from newsletter.cli import main
from newsletter.content.loader import edition_names, load_edition
from newsletter.core.config import load_workspace
from newsletter.core.errors import ValidationFailed

EDITION = "issues/2026-10/edition.yaml"


def check(ws: Path, *args: str):
    return CliRunner().invoke(main, ["-C", str(ws), "check", *args])


def edit(ws: Path, rel: str, old: str, new: str) -> None:
    path = ws / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_one_report_per_edition_in_order_and_clean_editions_have_no_errors(sample_ws: Path) -> None:
    ws = load_workspace(sample_ws)
    reports = run_check(ws)
    assert [r.name for r in reports] == edition_names(ws)
    assert all(r.count("error") == 0 for r in reports)
    assert run_check(ws, ["2026-10"])[0].name == "2026-10" and len(run_check(ws, ["2026-10"])) == 1


def test_every_linter_contributes_its_findings(sample_ws: Path) -> None:
    ws = load_workspace(sample_ws)
    loaded = load_edition(ws, "2026-11")
    expected = [f for lint in linters() for f in lint(ws, loaded)]
    (report,) = run_check(ws, ["2026-11"])
    assert report.findings == expected
    assert source_findings in linters()


def test_a_missing_translation_is_a_fallback_warning_naming_language_block_and_field(sample_ws: Path) -> None:
    edit(sample_ws, EDITION, "      de: Bis zum nächsten Monat, *Ihr Koordinationsteam*.\n", "")
    (report,) = run_check(load_workspace(sample_ws), ["2026-10"])
    fallback = [f for f in report.findings if f.code == "fallback"]
    assert len(fallback) == 1 and fallback[0].level == "warning"
    assert fallback[0].message.startswith("de: blocks[5] markdown") and "falls back to en (body)" in fallback[0].message
    assert fallback[0].where.startswith(f"{EDITION}:")   # the line of the block that falls back


def test_raw_html_in_markdown_is_a_warning_at_its_line(sample_ws: Path) -> None:
    edit(sample_ws, EDITION, "en: Until next month, *the coordination team*.",
         "en: Until next month, <b>the coordination team</b>.")
    (report,) = run_check(load_workspace(sample_ws), ["2026-10"])
    raw = [f for f in report.findings if f.code == "raw-html"]
    line = next(i for i, text in enumerate((sample_ws / EDITION).read_text().splitlines(), 1) if "<b>" in text)
    assert [f.message[:15] for f in raw] == ["raw HTML '<b>' ", "raw HTML '</b>'"]  # both tags, in order
    assert all(f.level == "warning" and f.where.startswith(f"{EDITION}:{line}:") for f in raw)


def test_validation_errors_of_every_edition_come_together(sample_ws: Path) -> None:
    edit(sample_ws, EDITION, "number: 13", "number: thirteen")
    edit(sample_ws, "issues/2026-11/edition.yaml", "\nblocks:", "\nsponsor: ACME\nblocks:")
    with pytest.raises(ValidationFailed) as info:
        run_check(load_workspace(sample_ws))
    files = {Path(e.path).parent.name for e in info.value.errors}
    assert files == {"2026-10", "2026-11"}


def test_findings_and_reports_read_as_one_line_each() -> None:
    finding = Finding("warning", "fallback", "de: falls back", "issues/x/edition.yaml")
    assert str(finding) == "issues/x/edition.yaml: warning: de: falls back [fallback]"
    assert str(Finding("error", "render", "boom")) == "error: boom [render]"
    report = EditionReport(loaded=None, findings=[finding, Finding("error", "render", "boom")])  # type: ignore[arg-type]
    assert (report.count("warning"), report.count("error")) == (1, 1)


# -- the command ----------------------------------------------------------------------------

def test_warnings_pass_unless_strict(sample_ws: Path) -> None:
    edit(sample_ws, EDITION, "      de: Bis zum nächsten Monat, *Ihr Koordinationsteam*.\n", "")
    plain = check(sample_ws, "2026-10")
    assert plain.exit_code == 0, plain.output
    assert "[fallback]" in plain.output and "2026-10: ok" in plain.output and "1 warning(s)" in plain.output
    strict = check(sample_ws, "--strict", "2026-10")
    assert strict.exit_code == 1
    assert "Error: 0 error(s), 1 warning(s) (--strict)" in strict.output


def test_strict_without_warnings_passes(sample_ws: Path) -> None:
    result = check(sample_ws, "--strict", "2026-10")
    assert result.exit_code == 0, result.output


def test_a_lint_error_fails_and_quiet_prints_only_problems(sample_ws: Path) -> None:
    edit(sample_ws, EDITION, "      de: Bis zum nächsten Monat, *Ihr Koordinationsteam*.\n", "")
    quiet = check(sample_ws, "-q", "2026-10")
    assert quiet.exit_code == 0 and "ok" not in quiet.output and "[fallback]" in quiet.output
    edit(sample_ws, EDITION, "number: 13", "number: thirteen")
    failed = check(sample_ws, "2026-10")
    assert failed.exit_code == 1 and f"{EDITION}:2:" in failed.output and "Traceback" not in failed.output

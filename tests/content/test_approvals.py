"""Sign-off per language: `newsletter approve` records who approved what; any later change to
the source text or to that language's texts makes the approval void."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from click.testing import CliRunner

from newsletter.cli import main
from newsletter.content.approvals import approve, language_states, unapproved
from newsletter.content.loader import load_edition
from newsletter.core.config import load_workspace
from tests.support.workspaces import edit_edition

EDITION = "2026-11"
NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.timezone.utc)


def states(ws: Path) -> dict[str, str]:
    loaded = load_edition(load_workspace(ws), EDITION)
    return {lang: state.status for lang, state in language_states(loaded).items()}


def edit(ws: Path, old: str, new: str) -> None:
    edit_edition(ws, EDITION, old, new, count=-1)


def nobody_signed_off(ws: Path) -> None:
    """The sample ships approvals (it requires them): these tests start from none."""
    (ws / "issues" / EDITION / "approvals.yaml").unlink()


def test_approve_records_who_and_when_and_states_follow_changes(sample_ws: Path) -> None:
    nobody_signed_off(sample_ws)
    result = CliRunner().invoke(main, ["-C", str(sample_ws), "approve", EDITION, "--lang", "en,de", "--by", "Rosa M."])
    assert result.exit_code == 0, result.output
    assert "de: approved by Rosa M." in result.output
    text = (sample_ws / "issues" / EDITION / "approvals.yaml").read_text(encoding="utf-8")
    assert 'by: "Rosa M."' in text
    assert states(sample_ws) == {"en": "approved", "de": "approved", "es": "not approved"}

    edit(sample_ws, "Mütter und Kinder im Garten", "Mütter mit Kindern im Garten")   # German only
    assert states(sample_ws) == {"en": "approved", "de": "changed", "es": "not approved"}

    edit(sample_ws, "Mothers and children in the garden", "Mothers and their children in the garden")
    assert states(sample_ws)["en"] == "changed"


def test_unapproved_lists_what_may_not_be_sent(sample_ws: Path) -> None:
    nobody_signed_off(sample_ws)
    loaded = load_edition(load_workspace(sample_ws), EDITION)
    approve(loaded, ["en"], "editor", NOW)
    assert [s.language for s in unapproved(loaded, ["en", "de", "es"])] == ["de", "es"]
    assert unapproved(loaded, ["de"])[0].describe() == f"de: not approved (newsletter approve {EDITION} --lang de)"


def test_approving_an_unknown_language_is_an_error_naming_the_languages(sample_ws: Path) -> None:
    result = CliRunner().invoke(main, ["-C", str(sample_ws), "approve", EDITION, "--lang", "fr"])
    assert result.exit_code == 1
    assert "has no language 'fr'; its languages: en, de, es" in result.output


def test_approve_reads_language_codes_whatever_their_case(sample_ws: Path) -> None:
    nobody_signed_off(sample_ws)
    result = CliRunner().invoke(main, ["-C", str(sample_ws), "approve", EDITION, "--lang", "DE", "--by", "Rosa M."])
    assert result.exit_code == 0, result.output
    assert states(sample_ws)["de"] == "approved"
    assert "\nde:\n" in (sample_ws / "issues" / EDITION / "approvals.yaml").read_text(encoding="utf-8")

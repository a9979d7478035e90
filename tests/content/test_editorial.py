"""Editorial checks that need more than one edition file (content.editorial)."""
from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from newsletter.cli import main


def check(ws: Path, *args: str):
    return CliRunner().invoke(main, ["-C", str(ws), "check", *args])


def test_the_skeleton_of_new_does_not_pass_check_even_without_strict(sample_ws: Path) -> None:
    result = CliRunner().invoke(main, ["-C", str(sample_ws), "new", "--date", "2026-12"])
    assert result.exit_code == 0, result.output
    result = check(sample_ws, "2026-12")
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("issues/2026-12/")]
    assert "issues/2026-12/edition.yaml:6:7: subject.en: placeholder text 'TODO subject in en' (from the " \
           "skeleton of `newsletter new`?): write the real text before sending" in lines
    assert any("blocks[0].title: placeholder text 'TODO headline'" in line for line in lines)
    assert "Traceback" not in result.output


def test_new_like_warns_about_the_copied_subject_and_past_events(sample_ws: Path) -> None:
    result = CliRunner().invoke(main, ["-C", str(sample_ws), "new", "--date", "2026-12", "--like", "2026-11"])
    assert result.exit_code == 0, result.output
    result = check(sample_ws, "2026-12")
    codes = {line.rsplit("[", 1)[-1].rstrip("]") for line in result.output.splitlines() if "warning:" in line}
    assert {"repeated", "past-event"} <= codes, result.output
    assert any(line.startswith("issues/2026-12/edition.yaml:") and "the subject is the same as edition 2026-11's"
               in line for line in result.output.splitlines())


def test_an_edition_folder_with_a_space_is_refused(sample_ws: Path) -> None:
    shutil.copytree(sample_ws / "issues" / "2026-11", sample_ws / "issues" / "Dez 2026")
    result = check(sample_ws, "Dez 2026")
    assert result.exit_code == 1
    assert ("the edition folder name 'Dez 2026' holds a space, which breaks the archive and image URLs "
            "built from it; rename the folder, e.g. to 'Dez-2026'") in result.output
    build = CliRunner().invoke(main, ["-C", str(sample_ws), "build", "Dez 2026"])
    assert build.exit_code == 1 and not (sample_ws / "build" / "Dez 2026").exists()


def test_strict_gives_one_verdict(sample_ws: Path) -> None:
    result = check(sample_ws, "--strict", "2026-11")        # the Spanish fallbacks are warnings
    assert result.exit_code == 1
    assert "2026-11: ok" not in result.output
    assert "warning(s) fail --strict" in result.output

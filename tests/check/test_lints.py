"""The preflight lints of the rendered email, alone and through `newsletter check`."""
from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from newsletter.check.findings import Finding
from newsletter.cli import main
from newsletter.core.config import load_workspace
from newsletter.content.loader import load_edition
from newsletter.check.lints import lint_edition

from tests.support.samples import ROOT

WHERE = "issues/2026-11/edition.yaml"


def lint(ws_dir: Path, edition: str = "2026-11") -> list[Finding]:
    ws = load_workspace(ws_dir)
    return lint_edition(ws, load_edition(ws, edition))


def codes(findings: list[Finding], level: str | None = None) -> set[str]:
    return {f.code for f in findings if level is None or f.level == level}


def override(ws_dir: Path, name: str, old: str, new: str) -> None:
    """Put a changed copy of one default-theme file in the workspace's templates/."""
    text = (ROOT / "templates" / name).read_text(encoding="utf-8")
    assert old in text, name
    shutil.rmtree(ws_dir / "templates", ignore_errors=True)
    path = ws_dir / "templates" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.replace(old, new), encoding="utf-8")


def set_yaml(ws_dir: Path, old: str, new: str) -> None:
    path = ws_dir / "issues" / "2026-11" / "edition.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_sample_edition_has_no_lint_findings(sample_ws: Path) -> None:
    assert lint(sample_ws) == []


def test_html_over_102_kb_is_an_error_and_over_90_kb_a_warning(sample_ws: Path) -> None:
    path = sample_ws / "issues" / "2026-11" / "edition.yaml"
    original = path.read_text(encoding="utf-8")
    block = "\n  - type: markdown\n    body: " + "Words that make the email longer. " * 40 + "\n"
    # Grow the edition two blocks (about 3 KB) at a time, less than the 12 KB between the two
    # limits, so the test holds whatever size the theme and the sample give the email today.
    first = last = None
    for copies in range(0, 80, 2):
        path.write_text(original + block * copies, encoding="utf-8")
        found = [f for f in lint(sample_ws) if f.code == "html-size"]
        first = first or found
        if len(found) == 6 and {f.level for f in found} == {"error"}:
            last = found
            break
    assert first and {f.level for f in first} == {"warning"}
    assert last, "the email never grew over 102 KB"
    assert "Gmail clips" in last[0].message and last[0].where == WHERE
    assert {f.message.split(":")[0] for f in last} == {"en", "en+leaders", "de", "de+leaders", "es", "es+leaders"}


def test_an_image_without_alt_is_an_error(sample_ws: Path) -> None:
    override(sample_ws, "blocks/hero.mjml.j2", 'alt="{{ block.alt }}"', 'alt=""')
    found = [f for f in lint(sample_ws) if f.code == "img-alt"]
    assert found and all(f.level == "error" for f in found)
    assert "images/hero." in found[0].message and "has no alt text" in found[0].message


def test_relative_and_non_web_links_are_errors(sample_ws: Path) -> None:
    override(sample_ws, "layout/footer.mjml.j2", '<a href="{{ urls.website }}">',
             '<a href="/about">x</a> <a href="javascript:alert(1)">y</a> <a href="{{ urls.website }}">')
    found = [f.message for f in lint(sample_ws) if f.code == "link"]
    assert any("'/about'" in m for m in found) and any("'javascript:alert(1)'" in m for m in found)


def test_a_footer_without_unsubscribe_link_or_address_is_an_error_in_either_part(sample_ws: Path) -> None:
    override(sample_ws, "layout/footer.mjml.j2", '<a href="{{ urls.unsubscribe }}">{{ t.unsubscribe }}</a>', "")
    found = lint(sample_ws)
    assert {(f.code, "HTML part" in f.message) for f in found if f.level == "error"} == {("unsubscribe", True)}
    override(sample_ws, "layout/footer.txt.j2", "{{ org.postal_address | wrap }}", "")
    found = lint(sample_ws)
    assert {(f.code, "text part" in f.message) for f in found if f.level == "error"} == {("postal-address", True)}


def test_subject_length_and_missing_preheader_are_warnings(sample_ws: Path) -> None:
    set_yaml(sample_ws, 'en: "November news: peer learning, training and the Grassroots Academy"', "en: News")
    set_yaml(sample_ws, 'de: "Neues im November: Peer-Learning, Fortbildung und die Grassroots-Akademie"',
             "de: " + "Sehr lange Betreffzeile " * 4)
    path = sample_ws / "issues" / "2026-11" / "edition.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("preheader:")
    path.write_text(text[:start] + text[text.index("blocks:"):], encoding="utf-8")
    found = lint(sample_ws)
    assert {f.level for f in found} == {"warning"}
    messages = sorted(f.message.split(";")[0] for f in found if f.code == "subject-length")
    assert messages == ["de: the subject has 95 characters", "en: the subject has 4 characters"]
    assert sorted(f.message[:2] for f in found if f.code == "preheader") == ["de", "en", "es"]


def test_check_runs_the_render_lints(sample_ws: Path) -> None:
    set_yaml(sample_ws, 'en: "November news: peer learning, training and the Grassroots Academy"', "en: News")
    result = CliRunner().invoke(main, ["-C", str(sample_ws), "check", "2026-11"])
    assert result.exit_code == 0, result.output
    assert "en: the subject has 4 characters" in result.output and "[subject-length]" in result.output
    strict = CliRunner().invoke(main, ["-C", str(sample_ws), "check", "--strict", "2026-11"])
    assert strict.exit_code == 1


def test_a_template_error_is_a_lint_error_not_a_crash(sample_ws: Path) -> None:
    override(sample_ws, "blocks/cta.mjml.j2", "{{ block.title }}", "{{ block.tilte }}")
    result = CliRunner().invoke(main, ["-C", str(sample_ws), "check", "2026-11"])
    assert result.exit_code == 1
    assert "templates/blocks/cta.mjml.j2:" in result.output and "[render]" in result.output

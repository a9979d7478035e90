"""A mistake in a template is reported at the template's file and line: invalid MJML that MRML
refuses (MRML itself gives no line), and Jinja errors (undefined names, syntax)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import main
from newsletter.core.config import load_workspace
from newsletter.content.loader import load_edition
from newsletter.render import TemplateError, render_variant
from newsletter.render.mjml import Traced
from newsletter.render.pipeline import _job
from newsletter.render.templates import HTML_TEMPLATE, run, theme_environment
from newsletter.render.theme import theme_dir

from tests.support.samples import ROOT

QUOTE = "templates/blocks/quote.mjml.j2"


def write_template(ws_dir: Path, name: str, text: str) -> None:
    shutil.rmtree(ws_dir / "templates", ignore_errors=True)   # the default theme serves the rest
    path = ws_dir / "templates" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def render_error(ws_dir: Path) -> TemplateError:
    ws = load_workspace(ws_dir)
    with pytest.raises(TemplateError) as info:
        render_variant(ws, load_edition(ws, "2026-11"), "en")
    return info.value


BROKEN = {
    "unclosed element": (
        "    <mj-section>\n      <mj-column>\n        <mj-text>\n          {{ block.text }}\n"
        "      </mj-column>\n    </mj-section>\n", 3, "<mj-text> is never closed"),
    "unquoted attribute": (
        "    <mj-section>\n      <mj-column>\n        <mj-text padding=10px>{{ block.text }}</mj-text>\n"
        "      </mj-column>\n    </mj-section>\n", 3, "attribute values need quotes"),
    "bare less-than": (
        "    <mj-section>\n      <mj-column>\n        <mj-text>\n          1 < 2: {{ block.text }}\n"
        "        </mj-text>\n      </mj-column>\n    </mj-section>\n", 4, "bare '<'"),
    "stray closing tag": (
        "    <mj-section>\n      <mj-column>\n        <mj-text>{{ block.text }}</mj-text>\n"
        "      </mj-column>\n    </mj-section>\n      </mj-column>\n", 6, "</mj-column> closes an element that is not open"),
}


@pytest.mark.parametrize("case", BROKEN, ids=str)
def test_invalid_mjml_names_the_template_file_and_line(sample_ws: Path, case: str) -> None:
    text, line, why = BROKEN[case]
    write_template(sample_ws, "blocks/quote.mjml.j2", text)
    err = render_error(sample_ws)
    assert (err.template, err.line) == (QUOTE, line)
    assert str(err).startswith(f"{QUOTE}:{line}: invalid MJML: ")
    assert why in str(err) and "MRML:" in str(err)


def test_invalid_mjml_in_a_layout_file_names_that_file(sample_ws: Path) -> None:
    footer = (ROOT / "templates" / "layout" / "footer.mjml.j2").read_text(encoding="utf-8")
    broken = footer.replace("</mj-text>", "", 1)
    write_template(sample_ws, "layout/footer.mjml.j2", broken)
    err = render_error(sample_ws)
    assert err.template == "templates/layout/footer.mjml.j2"
    lines = broken.split("\n")
    assert "<mj-text" in lines[err.line - 1]


def test_an_undefined_name_names_the_template_line(sample_ws: Path) -> None:
    write_template(sample_ws, "blocks/quote.mjml.j2",
                   "    <mj-section>\n      <mj-column>\n        <mj-text>{{ block.txet }}</mj-text>\n"
                   "      </mj-column>\n    </mj-section>\n")
    err = render_error(sample_ws)
    assert (err.template, err.line) == (QUOTE, 3)
    assert "txet" in str(err)


def test_a_jinja_syntax_error_names_the_template_line(sample_ws: Path) -> None:
    write_template(sample_ws, "blocks/quote.mjml.j2", "    <mj-section>\n{% if block.text %}\n    </mj-section>\n")
    err = render_error(sample_ws)
    assert err.template == QUOTE and err.line is not None
    assert "template syntax error" in str(err)


def test_the_build_command_prints_the_place_without_a_traceback(sample_ws: Path) -> None:
    write_template(sample_ws, "blocks/quote.mjml.j2", BROKEN["unclosed element"][0])
    result = CliRunner().invoke(main, ["-C", str(sample_ws), "build", "2026-11"])
    assert result.exit_code == 1
    assert f"Error: {QUOTE}:3: invalid MJML: <mj-text> is never closed" in result.output
    assert "Traceback" not in result.output
    assert not (sample_ws / "build" / "2026-11").exists()


def test_tracing_marks_every_template_line_and_changes_nothing_else(kitchen_ws: Path) -> None:
    """The re-render that finds a line marks line ends only outside Jinja tags; without
    its marks it is the same MJML (give or take whitespace), whatever the templates do."""
    ws = load_workspace(kitchen_ws)
    job = _job(ws, load_edition(ws, "2099-01"), "ar", ("leaders", "partners"), None)
    plain = run(ws, theme_environment(ws), HTML_TEMPLATE, job.context)
    env = theme_environment(ws, trace=True)
    traced = Traced.parse(run(ws, env, HTML_TEMPLATE, job.context))
    assert traced.text.split() == plain.split()
    theme = theme_dir().resolve()
    files = {Path(name).resolve().relative_to(theme).as_posix() for name in env.loader.files}
    assert {"email.mjml.j2", "layout/head.mjml.j2", "blocks/cards.mjml.j2", "colors.j2"} <= files
    lines = plain.count("\n")
    assert len(traced.marks) >= lines * 0.9     # nearly every output line is traced to a template line

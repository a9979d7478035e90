"""The default theme and how a workspace overrides it file by file (Jinja ChoiceLoader)."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from newsletter.core.config import load_workspace
from newsletter.content.loader import load_edition
from newsletter.content.model import BLOCK_TYPES
from newsletter.render import render_variant
from newsletter.render.theme import strings, theme_dir

from tests.support.samples import ROOT, SAMPLES

DEFAULT_ACCENT = "#9b2457"
NAMC_ACCENT = "#0b5e7a"


def render_en(ws_dir: Path, edition: str = "2026-11", language: str = "en"):
    ws = load_workspace(ws_dir)
    return render_variant(ws, load_edition(ws, edition), language)


def without_own_templates(ws_dir: Path) -> Path:
    """The sample workspace's templates/ *is* the default theme; drop the copy so that only
    what a test puts there overrides it."""
    shutil.rmtree(ws_dir / "templates", ignore_errors=True)
    (ws_dir / "templates").mkdir()
    return ws_dir


def test_the_package_finds_the_default_theme() -> None:
    folder = theme_dir()
    assert folder.resolve() == (ROOT / "templates").resolve()
    assert (folder / "email.mjml.j2").is_file() and (folder / "email.txt.j2").is_file()
    for block_type in BLOCK_TYPES:
        assert (folder / "blocks" / f"{block_type}.mjml.j2").is_file(), block_type
        assert (folder / "blocks" / f"{block_type}.txt.j2").is_file(), block_type


def test_a_workspace_without_templates_uses_the_default_theme(sample_ws: Path) -> None:
    shutil.rmtree(sample_ws / "templates")
    html = render_en(sample_ws).html
    assert DEFAULT_ACCENT in html and "Mother Centres International Network e.V." in html


def test_the_example_colours_partial_overrides_only_the_colours(sample_ws: Path) -> None:
    default = render_en(without_own_templates(sample_ws)).html
    shutil.copy(ROOT / "examples" / "namc" / "templates" / "colors.j2", sample_ws / "templates" / "colors.j2")
    restyled = render_en(sample_ws).html
    assert NAMC_ACCENT in restyled and DEFAULT_ACCENT not in restyled
    assert "Georgia" in restyled and "Georgia" not in default
    # Everything else still comes from the default theme: the same email but for colours and font.
    assert neutral(restyled) == neutral(default)


def neutral(html: str) -> str:
    html = re.sub(r"#[0-9a-fA-F]{6}\b", "#colour", html)
    return re.sub(r"font-family:[^;\"]*", "font-family:F", html)


@pytest.mark.parametrize("sample", [s for s in SAMPLES if s.label == "namc"], ids=lambda s: s.id)
def test_the_example_workspace_renders_with_its_own_colours(sample, builds) -> None:
    build = builds[sample.id]
    html = (build.out_dir / build.manifest["variants"][0]["files"]["html"]).read_text(encoding="utf-8")
    assert NAMC_ACCENT in html and DEFAULT_ACCENT not in html


def test_a_block_partial_override_replaces_that_block_only(sample_ws: Path) -> None:
    ws_dir = without_own_templates(sample_ws)
    (ws_dir / "templates" / "blocks").mkdir()
    (ws_dir / "templates" / "blocks" / "divider.mjml.j2").write_text(
        '    <mj-section>\n      <mj-column>\n        <mj-divider border-color="#123456" border-style="dashed" />\n'
        "      </mj-column>\n    </mj-section>\n", encoding="utf-8")
    variant = render_en(ws_dir)
    assert "#123456" in variant.html and "dashed" in variant.html
    assert "Learning from each other, across borders" in variant.html   # hero: default theme
    assert "-" * 78 in variant.text                                     # text divider: default theme


def test_strings_override_word_by_word(sample_ws: Path) -> None:
    ws_dir = without_own_templates(sample_ws)
    (ws_dir / "templates" / "strings.yaml").write_text("en:\n  in_this_issue: What is inside\n", encoding="utf-8")
    variant = render_en(ws_dir)
    assert "What is inside" in variant.html and "What is inside" in variant.text
    assert "In this issue" not in variant.html
    assert "View this email in your browser" in variant.html    # not overridden: still there


def test_a_language_without_strings_falls_back_to_english(sample_ws: Path) -> None:
    ws = load_workspace(sample_ws)
    assert strings(ws, "de").read_more == "Weiterlesen"
    assert strings(ws, "de-AT").read_more == "Weiterlesen"
    assert strings(ws, "sw").read_more == "Read more"


def test_rtl_languages_get_dir_rtl(kitchen_ws: Path) -> None:
    ltr = render_en(kitchen_ws, "2099-01", "en")
    rtl = render_en(kitchen_ws, "2099-01", "ar")
    assert '<html lang="en" dir="ltr"' in ltr.html
    assert '<html lang="ar" dir="rtl"' in rtl.html
    assert "text-align:right" in rtl.html and "text-align:right" not in ltr.html


def test_dark_mode_and_color_scheme_are_declared(sample_ws: Path) -> None:
    html = render_en(sample_ws).html
    assert '<meta name="color-scheme" content="light dark"' in html
    assert '<meta name="supported-color-schemes" content="light dark"' in html
    assert "@media (prefers-color-scheme: dark)" in html
    assert "@media only screen and (min-width:480px)" in html    # MJML's phone layout kept


def test_the_preheader_is_hidden_text_at_the_top(sample_ws: Path) -> None:
    html = render_en(sample_ws).html
    body = html[html.index("<body"):]
    preheader = "Three dates for your calendar and stories from Mother Centres in four countries."
    assert body.index(preheader) < body.index("View this email in your browser")
    hidden = body[:body.index(preheader)]
    assert "display:none" in hidden[hidden.rindex("<div"):]


@pytest.mark.parametrize("text, where, message", [
    ("de:\n  months: [Januar, Februar]\n", ":2:", "expected a list of 12 names"),
    ("en:\n  read_more:\n    - a list\n", ":2:", "expected a text, got list"),
    ("en:\n  date_format: \"{day} {monat}\"\n", ":2:", "'monat' is not one"),
])
def test_a_broken_strings_file_is_reported_at_its_line(sample_ws: Path, text: str, where: str, message: str) -> None:
    from newsletter.core.errors import ValidationFailed

    (sample_ws / "templates" / "strings.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ValidationFailed) as info:
        strings(load_workspace(sample_ws), "de")
    rendered = info.value.render()
    assert "templates/strings.yaml" in rendered and where in rendered and message in rendered


FILLER = re.compile(r"(?:\u034f\u200c&nbsp;){50,}")   # "&#847;&zwnj;&nbsp;", as MRML writes it


def test_the_preheader_is_hidden_without_a_colour_trick_and_ends_in_filler(sample_ws: Path) -> None:
    """Issue 18: hiding by a text colour close to the background is what SpamAssassin's
    HTML_FONT_LOW_CONTRAST scores; the filler keeps the body out of the inbox preview."""
    html = render_en(sample_ws).html
    preheader = "Three dates for your calendar and stories from Mother Centres in four countries."
    start = html.rindex("<div", 0, html.index(preheader))
    div = html[start:html.index("</div>", start)]
    style = re.search(r'style="([^"]*)"', div).group(1)
    rules = dict(rule.split(":", 1) for rule in style.strip(";").split(";"))
    assert rules["display"] == "none" and rules["max-height"] in ("0", "0px")
    assert rules["overflow"] == "hidden" and rules["mso-hide"] == "all"
    assert "color" not in rules and "background-color" not in rules
    assert FILLER.search(div[div.index(preheader):]), div[-200:]
    assert html.count(preheader) == 1    # not also MJML's own preview block


def test_view_in_browser_comes_after_the_masthead(sample_ws: Path) -> None:
    """Issue 18: the first visible line is the newsletter's masthead, not a link; the link
    stays, in the footer of the HTML part and below the masthead in the text part."""
    variant = render_en(sample_ws)
    body = variant.html[variant.html.index("<body"):]
    link = body.index("View this email in your browser")
    assert body.index("Edition 14") < body.index("Unsubscribe") < link
    lines = [line for line in variant.text.splitlines() if line.strip()]
    assert not lines[0].startswith("View this email")
    assert lines.index("View this email in your browser:") > 1

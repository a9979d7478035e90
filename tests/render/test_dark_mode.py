"""Issue 18: dark mode reaches Outlook.com and the Outlook apps ([data-ogsc] for text colours,
[data-ogsb] for backgrounds), and buttons keep WCAG contrast in dark mode: the fill at least
3:1 against the dark surface and page, the label at least 4.5:1 on the fill. The colours are
read from the CSS the rendered HTML carries, for both sample workspaces' themes."""
from __future__ import annotations

import re

import pytest

from tests.support.samples import SAMPLES

_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_STYLE = re.compile(r"<style[^>]*>(.*?)</style>", re.S)
_MEDIA_DARK = re.compile(r"@media \(prefers-color-scheme: dark\)\s*\{((?:[^{}]*\{[^{}]*\})*)\s*\}")


def rules(css: str) -> dict[str, dict[str, str]]:
    """selector -> {property: value} (the last one wins, as in CSS), "!important" dropped."""
    out: dict[str, dict[str, str]] = {}
    for selectors, body in _RULE.findall(css):
        declarations = {}
        for declaration in body.split(";"):
            if ":" in declaration:
                name, value = declaration.split(":", 1)
                declarations[name.strip()] = value.replace("!important", "").strip()
        for selector in selectors.split(","):
            out.setdefault(" ".join(selector.split()), {}).update(declarations)
    return out


def luminance(colour: str) -> float:
    """WCAG 2 relative luminance of "#rrggbb"."""
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", colour), colour
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def styles(html: str) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    """(rules outside media queries, rules inside the prefers-color-scheme: dark query)."""
    css = re.sub(r"/\*.*?\*/", "", "\n".join(_STYLE.findall(html)), flags=re.S)
    dark = "\n".join(_MEDIA_DARK.findall(css))
    top = re.sub(r"@media[^{]*\{(?:[^{}]*\{[^{}]*\})*\s*\}", "", css)
    return rules(top), rules(dark)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.id)
def test_outlook_dark_mode_rules_cover_text_links_and_buttons(sample, builds) -> None:
    html = (builds[sample.id].out_dir / "en" / "email.html").read_text(encoding="utf-8")
    top, _ = styles(html)
    for selector, prop in [("[data-ogsc] .t > div", "color"), ("[data-ogsc] .m > div", "color"),
                           ("[data-ogsc] .t a", "color"), ("[data-ogsc] .btn a", "color"),
                           ("[data-ogsb] .surface", "background-color"), ("[data-ogsb] .page", "background-color"),
                           ("[data-ogsb] .btn td", "background-color"), ("[data-ogsb] .btn a", "background-color")]:
        assert prop in top.get(selector, {}), f"{sample.id}: no {prop} for {selector}"
    assert 'class="btn"' in html


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.id)
def test_buttons_and_text_keep_contrast_in_dark_mode(sample, builds) -> None:
    html = (builds[sample.id].out_dir / "en" / "email.html").read_text(encoding="utf-8")
    top, dark = styles(html)
    schemes = {
        "prefers-color-scheme": (dark, ""),
        "Outlook.com": (top, "[data-ogsb] "),
    }
    for scheme, (found, bg) in schemes.items():
        fg = "[data-ogsc] " if bg else ""
        backgrounds = [found[f"{bg}{s}"]["background-color"] for s in (".surface", ".page")]
        fill = found[f"{bg}.btn td"]["background-color"]
        assert found[f"{bg}.btn a"]["background-color"] == fill
        label = found[f"{fg}.btn a"]["color"]
        for background in backgrounds:
            assert contrast(fill, background) >= 3.0, (sample.id, scheme, fill, background)
            for text in (found[f"{fg}.t > div"]["color"], found[f"{fg}.t a"]["color"]):
                assert contrast(text, background) >= 4.5, (sample.id, scheme, text, background)
        assert contrast(label, fill) >= 4.5, (sample.id, scheme, label, fill)

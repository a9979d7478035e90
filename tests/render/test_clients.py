"""Issue 18: what readers' mail clients do to the email, in headless Chromium.

Images blocked (the default in many clients; every request is aborted), at 320, 375 and 600 px
in light and dark mode, every variant of both sample workspaces:
- nothing scrolls sideways;
- every button is inside the screen, has a size, its label fits and is readable on its fill;
- every shown image's alt text is drawn in the theme's font (the one most text is set in, not
  the browser's default serif), at 12 px or more, in a colour readable on what is behind it.
"""
from __future__ import annotations

import pytest

from tests.render.conftest import EmailVariant, variants_of
from tests.render.test_accessibility import COLOUR_JS
from tests.support.samples import SAMPLES, Sample

pytestmark = pytest.mark.browser
WIDTHS = (320, 375, 600)

BLOCKED_JS = "() => {" + COLOUR_JS + """
  const problems = [], width = document.documentElement.clientWidth;
  const extra = document.documentElement.scrollWidth - width;
  if (extra > 0) problems.push(`scrolls sideways by ${extra}px`);
  const found = buttons();
  for (const a of found) {
    const r = a.getBoundingClientRect(), s = getComputedStyle(a), fill = opaque(a), label = parse(s.color);
    if (r.left < 0 || r.right > width + 0.5) problems.push(`button ${describe(a)} at ${Math.round(r.left)}..${Math.round(r.right)}px is outside the ${width}px screen`);
    if (a.scrollWidth > a.clientWidth + 1) problems.push(`button ${describe(a)}: label wider than the button`);
    if (parseFloat(s.fontSize) < 14) problems.push(`button ${describe(a)}: ${s.fontSize} label`);
    if (ratio(label, fill) < 4.5) problems.push(`button ${describe(a)}: label ${hex(label)} on ${hex(fill)}`);
  }
  // The theme's font: the one most of the text is set in.
  const fonts = {};
  for (const el of document.body.querySelectorAll('p, li, h1, h2, h3')) fonts[getComputedStyle(el).fontFamily] = (fonts[getComputedStyle(el).fontFamily] || 0) + 1;
  const font = Object.keys(fonts).sort((x, y) => fonts[y] - fonts[x])[0];
  let alts = 0;
  for (const img of document.images) {
    if (!img.alt.trim() || !img.getClientRects().length) continue;   // decorative, or display:none
    const r = img.getBoundingClientRect(), s = getComputedStyle(img);
    if (s.visibility === 'hidden' || r.height === 0) continue;
    alts++;
    const what = `image "${img.alt.slice(0, 30)}"`, fg = parse(s.color), bg = backdrop(img.parentElement);
    if (r.width === 0) problems.push(`${what}: no room for its alt text`);
    if (r.right > width + 0.5) problems.push(`${what}: reaches ${Math.round(r.right)}px`);
    if (s.fontFamily !== font) problems.push(`${what}: alt text in ${s.fontFamily}, not the theme's ${font}`);
    if (parseFloat(s.fontSize) < 12) problems.push(`${what}: alt text ${s.fontSize}`);
    if (ratio(fg, bg) < 4.5) problems.push(`${what}: alt text ${hex(fg)} on ${hex(bg)} = ${ratio(fg, bg).toFixed(2)}`);
  }
  return {problems, buttons: found.length, alts};
}
"""


def with_images_blocked(browser, variants: list[EmailVariant], dark: bool) -> tuple[list[str], list[dict]]:
    problems, results = [], []
    scheme = "dark" if dark else "light"
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 800}, color_scheme=scheme)
        context.route("**/*", lambda r: r.abort())
        page = context.new_page()
        try:
            for variant in variants:
                page.set_content(variant.html, wait_until="load")
                result = page.evaluate(BLOCKED_JS)
                results.append(result)
                problems += [f"{variant.label} at {width}px, {scheme}, images blocked: {p}" for p in result["problems"]]
        finally:
            context.close()
    return problems, results


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.id)
def test_images_blocked_nothing_overflows_buttons_and_alt_texts_readable(sample: Sample, dark: bool,
                                                                          builds, browser) -> None:
    problems, results = with_images_blocked(browser, variants_of(builds, [sample]), dark)
    assert any(r["buttons"] for r in results) and all(r["alts"] for r in results)
    assert problems == []


def test_the_blocked_images_check_sees_a_wide_button_and_a_serif_alt(browser, email_variants) -> None:
    """The control: a button wider than a phone and an image with the browser's own alt style."""
    original = email_variants[0]
    html = original.html.replace("</body>", '<a href="https://example.org/x" style="display:inline-block;'
                                 'background:#222222;color:#ffffff;font-size:16px;padding:10px;width:400px">Wide</a>'
                                 '<img src="https://example.org/y.png" alt="Serif" width="100" height="40"'
                                 ' style="font-family:serif;color:#000000;font-size:16px"><p>Text</p></body>')
    problems, _ = with_images_blocked(browser, [EmailVariant("control", html, original.folder, original.base)], False)
    at320 = [p for p in problems if " at 320px" in p]
    assert any('button a "Wide"' in p and "outside the 320px screen" in p for p in at320), problems
    assert any("scrolls sideways" in p for p in at320), problems
    assert any('image "Serif": alt text in serif, not the theme' in p for p in problems), problems

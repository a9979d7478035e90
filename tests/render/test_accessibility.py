"""Issue 18: every variant of both sample workspaces, in headless Chromium at 375 and 600 px,
in light and in dark mode (``prefers-color-scheme: dark`` emulated):

- axe-core (tools/node_modules) finds no serious or critical violation;
- contrast computed in the page with getComputedStyle: every piece of visible text against the
  nearest opaque background behind it (WCAG AA: 4.5:1, 3:1 for large text), every button's
  fill against what surrounds it (3:1, WCAG 1.4.11 non-text contrast) and its label on the fill.

Failures name the variant, width, scheme, the element and its colours. The page's images are
served from the build folder (so the layout is the real one); every other request is refused.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT, require_tool
from tests.render.conftest import EmailVariant, variants_of
from tests.support.samples import SAMPLES, Sample

pytestmark = pytest.mark.browser
AXE = ROOT / "tools" / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (375, 600)

# Shared by the contrast checks here and in test_clients.py: colour parsing, WCAG luminance,
# the nearest opaque background, a short description of an element.
COLOUR_JS = """
const parse = c => { const m = c && c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
  const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
  return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
const ratio = (x, y) => { const [a, b] = [lum(x), lum(y)].sort((p, q) => q - p); return (a + 0.05) / (b + 0.05); };
const hex = c => '#' + [c.r, c.g, c.b].map(v => Math.round(v).toString(16).padStart(2, '0')).join('');
const same = (x, y) => x.r === y.r && x.g === y.g && x.b === y.b;
const opaque = el => { const c = parse(getComputedStyle(el).backgroundColor); return c && c.a > 0.5 ? c : null; };
const backdrop = (el, skip) => { for (let e = el; e; e = e.parentElement) {
    const c = opaque(e); if (c && !(skip && same(c, skip))) return c; }
  return parse(getComputedStyle(document.documentElement).backgroundColor) || {r: 255, g: 255, b: 255, a: 1}; };
const describe = el => el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ').join('.') : '')
  + ' "' + el.textContent.trim().replace(/\\s+/g, ' ').slice(0, 40) + '"';
const shown = el => { const r = el.getBoundingClientRect(), s = getComputedStyle(el);
  return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && Number(s.opacity) > 0; };
const large = s => { const size = parseFloat(s.fontSize); return size >= 24 || (Number(s.fontWeight) >= 700 && size >= 18.66); };
// A button: a link with its own opaque fill, different from what is behind it.
const buttons = () => [...document.querySelectorAll('a')].filter(a => shown(a) && opaque(a)
  && !same(opaque(a), backdrop(a.parentElement, opaque(a))));
"""

# Every visible element with its own text, and every button: what fails WCAG AA.
CONTRAST_JS = "() => {" + COLOUR_JS + """
  const poor = [];
  let texts = 0;
  for (const el of document.body.querySelectorAll('*')) {
    if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()) || !shown(el)) continue;
    texts++;
    const s = getComputedStyle(el), fg = parse(s.color), bg = backdrop(el);
    const need = large(s) ? 3 : 4.5, r = ratio(fg, bg);
    if (r < need) poor.push(`text ${describe(el)}: ${hex(fg)} on ${hex(bg)} = ${r.toFixed(2)} < ${need}`);
  }
  const found = buttons();
  for (const a of found) {
    const fill = opaque(a), around = backdrop(a.parentElement, fill), label = parse(getComputedStyle(a).color);
    const edge = ratio(fill, around), text = ratio(label, fill), need = large(getComputedStyle(a)) ? 3 : 4.5;
    if (edge < 3) poor.push(`button ${describe(a)}: fill ${hex(fill)} on ${hex(around)} = ${edge.toFixed(2)} < 3`);
    if (text < need) poor.push(`button ${describe(a)}: label ${hex(label)} on ${hex(fill)} = ${text.toFixed(2)} < ${need}`);
  }
  return {poor, texts, buttons: found.length};
}
"""
AXE_JS = """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
  .filter(v => ['serious', 'critical'].includes(v.impact))
  .map(v => `${v.id} (${v.impact}): ` + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))"""


def open_email(context, variant: EmailVariant):
    """A page in ``context`` showing the variant, its images served from the build folder."""
    page = context.new_page()

    def route(r) -> None:
        url = r.request.url
        target = variant.folder / url[len(variant.base):] if url.startswith(variant.base) else None
        if target is not None and target.is_file():
            r.fulfill(body=target.read_bytes(), content_type="image/png")
        else:
            r.abort()

    page.route("**/*", route)
    page.set_content(variant.html, wait_until="load")
    return page


def check_variants(browser, variants: list[EmailVariant], dark: bool, script: str) -> tuple[list[str], list[dict]]:
    """Run ``script`` on every variant at every width: (problems, raw results)."""
    problems, results = [], []
    scheme = "dark" if dark else "light"
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 800}, color_scheme=scheme)
        try:
            for variant in variants:
                page = open_email(context, variant)
                if script == "axe":
                    page.add_script_tag(path=str(AXE))
                    result = page.evaluate(AXE_JS)
                    found = result
                else:
                    result = page.evaluate(script)
                    found = result["poor"]
                page.close()
                results.append(result)
                problems += [f"{variant.label} at {width}px, {scheme}: {p}" for p in found]
        finally:
            context.close()
    return problems, results


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.id)
def test_axe_finds_no_serious_violation(sample: Sample, dark: bool, builds, browser) -> None:
    require_tool(AXE.is_file(), "axe-core (tools/node_modules, `make node`)")
    problems, results = check_variants(browser, variants_of(builds, [sample]), dark, "axe")
    assert len(results) >= len(WIDTHS)
    assert problems == []


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.id)
def test_text_and_buttons_keep_wcag_contrast(sample: Sample, dark: bool, builds, browser) -> None:
    problems, results = check_variants(browser, variants_of(builds, [sample]), dark, CONTRAST_JS)
    assert all(r["texts"] > 10 for r in results)
    assert any(r["buttons"] > 0 for r in results), "no button found: the check would pass vacuously"
    assert problems == []


def test_the_checks_catch_a_pale_button_and_an_axe_violation(browser, email_variants) -> None:
    """The control: a light-grey button label and fill, and an image without alt text."""
    require_tool(AXE.is_file(), "axe-core (tools/node_modules, `make node`)")
    original = email_variants[0]
    html = original.html.replace("</body>", '<a href="https://example.org/x" style="display:inline-block;'
                                 'background:#f0f0f0;color:#cccccc;padding:10px">Pale</a>'
                                 '<img src="https://example.org/y.png" width="10" height="10"></body>')
    bad = EmailVariant("control", html, Path(original.folder), original.base)
    problems, _ = check_variants(browser, [bad], False, CONTRAST_JS)
    assert any('button a "Pale": fill #f0f0f0' in p for p in problems), problems
    assert any('button a "Pale": label #cccccc on #f0f0f0' in p for p in problems), problems
    problems, _ = check_variants(browser, [bad], False, "axe")
    assert any(p.split(": ", 1)[1].startswith("image-alt") for p in problems), problems

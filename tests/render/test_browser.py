"""Every variant in headless Chromium: no horizontal scrolling on 320 and 375 px wide phones,
and readable text (contrast of at least 4.5:1, 3:1 for large text) in light and dark mode.

The page's images are served from the build folder (where asset_base_url points), so the
layout is the real one; every other request is refused: nothing leaves the machine.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.core.config import load_workspace
from newsletter.content.loader import load_edition
from newsletter.render import render_variant

from tests.render.conftest import variants_of
from tests.support.samples import ALL, ROOT, Sample

pytestmark = pytest.mark.browser
PHONE_WIDTHS = (320, 375)

# For every visible element with its own text: its colour, the colour of the nearest opaque
# background behind it, and whether its text is large (24 px, or 18.66 px bold).
CONTRAST_JS = """
() => {
  const parse = c => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(',').map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const background = el => { for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor); if (c && c.a > 0.5) return c; }
    return parse(getComputedStyle(document.documentElement).backgroundColor) || {r: 255, g: 255, b: 255, a: 1}; };
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    if (r.width === 0 || r.height === 0 || s.visibility === 'hidden' || Number(s.opacity) === 0) continue;
    if (el.closest('[style*="display:none"]')) continue;
    const fg = parse(s.color), bg = background(el);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const size = parseFloat(s.fontSize), bold = Number(s.fontWeight) >= 700;
    out.push({text: el.textContent.trim().slice(0, 40), ratio: (a + 0.05) / (b + 0.05),
              large: size >= 24 || (bold && size >= 18.66)});
  }
  return out;
}
"""


def variant_pages(builds, samples: list[Sample]) -> list[tuple[str, str, Path, str]]:
    """(label, html, build folder, asset base URL) of every variant of the samples."""
    return [(v.label, v.html, v.folder, v.base) for v in variants_of(builds, samples)]


def open_page(browser, width: int, folder: Path, base: str, dark: bool = False):
    page = browser.new_page(viewport={"width": width, "height": 800},
                            color_scheme="dark" if dark else "light")

    def route(r) -> None:
        url = r.request.url
        target = folder / url[len(base):] if url.startswith(base) else None
        if target is not None and target.is_file():
            r.fulfill(body=target.read_bytes(), content_type="image/png")
        else:
            r.abort()

    page.route("**/*", route)
    return page


def horizontal_overflow(page, html: str, width: int) -> int:
    page.set_viewport_size({"width": width, "height": 800})
    page.set_content(html, wait_until="load")
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


@pytest.mark.parametrize("sample", ALL, ids=lambda s: s.id)
def test_no_variant_scrolls_sideways_on_phones(sample: Sample, builds, browser) -> None:
    overflowing = []
    pages = variant_pages(builds, [sample])
    page = open_page(browser, PHONE_WIDTHS[0], pages[0][2], pages[0][3])
    try:
        for label, html, _folder, _base in pages:
            for width in PHONE_WIDTHS:
                extra = horizontal_overflow(page, html, width)
                if extra > 0:
                    overflowing.append(f"{label} at {width}px: {extra}px too wide")
    finally:
        page.close()
    assert overflowing == []


def test_the_overflow_check_sees_a_too_wide_email(builds, browser) -> None:
    """The control: a 700 px table in the same email does scroll sideways."""
    label, html, folder, base = variant_pages(builds, [ALL[0]])[0]
    wide = html.replace("</body>", '<table width="700" style="width:700px"><tr><td>x</td></tr></table></body>')
    page = open_page(browser, 320, folder, base)
    try:
        assert horizontal_overflow(page, html, 320) == 0
        assert horizontal_overflow(page, wide, 320) > 0
    finally:
        page.close()


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
@pytest.mark.parametrize("sample", ALL, ids=lambda s: s.id)
def test_text_stays_readable_in_light_and_dark_mode(sample: Sample, builds, browser, dark: bool) -> None:
    pages = variant_pages(builds, [sample])
    label, html, folder, base = max(pages, key=lambda p: len(p[1]))  # the variant with most blocks
    page = open_page(browser, 600, folder, base, dark=dark)
    try:
        page.set_content(html, wait_until="load")
        items = page.evaluate(CONTRAST_JS)
    finally:
        page.close()
    assert len(items) > 10
    poor = [(i["text"], round(i["ratio"], 2)) for i in items if i["ratio"] < (3 if i["large"] else 4.5)]
    assert poor == [], label


def test_the_contrast_check_sees_unreadable_dark_text(kitchen_ws: Path, browser) -> None:
    """The control: a theme whose dark-mode text colour is its dark background fails."""
    theme = (ROOT / "templates" / "colors.j2").read_text(encoding="utf-8")
    (kitchen_ws / "templates").mkdir()
    (kitchen_ws / "templates" / "colors.j2").write_text(
        theme.replace('dark_text = "#f1f1f1"', 'dark_text = "#2a2a2a"'), encoding="utf-8")
    ws = load_workspace(kitchen_ws)
    html = render_variant(ws, load_edition(ws, "2099-01"), "en").html
    page = open_page(browser, 600, kitchen_ws, "https://kitchen.example.org/archive/2099-01/", dark=True)
    try:
        page.set_content(html, wait_until="load")
        items = page.evaluate(CONTRAST_JS)
    finally:
        page.close()
    assert any(i["ratio"] < 2 for i in items)

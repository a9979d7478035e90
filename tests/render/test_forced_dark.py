"""Issue 18: forced dark, every variant of both sample workspaces at 375 px (a phone).

Forced dark (Chromium's auto-darkening, launched with --force-dark-mode and
--blink-settings=forceDarkModeEnabled=true: what the Gmail app does to an email whatever its CSS
asks): the page is shown in light mode with its color-scheme declarations taken out, so the
browser darkens it itself. Forced dark happens when painting: getComputedStyle still reports the
original colours. So the page is screenshot (device scale 2, so glyph stems are solid pixels) and
the pixels are measured with Pillow: for a button, its edge is the most common colour in the
outer 3 px of its box (its border, or its fill when it has none), its surroundings the most
common colour in a ring 4-10 px around it (WCAG 1.4.11: the edge must stand out 3:1), its fill
the most common colour inside the edge and its label the colour there that contrasts most with
the fill; for text, the background is the most common
colour in the element's box and the text colour the one that contrasts most with it.
"""
from __future__ import annotations

import io
import re
from collections import Counter

import pytest
from PIL import Image

from tests.render.conftest import EmailVariant, variants_of
from tests.render.test_accessibility import COLOUR_JS, open_email
from tests.support.samples import SAMPLES, Sample

pytestmark = pytest.mark.browser
SCALE = 2
# The Gmail app, whose auto-darkening this stands for, runs on phones.
FORCED_DARK_WIDTHS = (375,)
_COLOR_SCHEME = re.compile(r'<meta name="(?:color-scheme|supported-color-schemes)"[^>]*>|'
                           r"(?:supported-)?color-scheme:\s*light dark;?")
BOXES_JS = "() => {" + COLOUR_JS + """
  const box = el => { const r = el.getBoundingClientRect();
    return {x: r.left + scrollX, y: r.top + scrollY, w: r.width, h: r.height, what: describe(el)}; };
  const texts = [], found = buttons();
  for (const el of document.body.querySelectorAll('*')) {
    if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()) || !shown(el)) continue;
    if (el.closest('a') && found.includes(el.closest('a'))) continue;   // measured as a button
    texts.push({...box(el), large: large(getComputedStyle(el))});
  }
  // A button's box: the link, or the cell around it painted with the same fill (MJML's button).
  const outer = a => { let el = a; const fill = opaque(a);
    while (el.parentElement && opaque(el.parentElement) && same(opaque(el.parentElement), fill)) el = el.parentElement;
    return {...box(el), what: describe(a)}; };
  return {buttons: found.map(outer), texts};
}
"""


def luminance(rgb: tuple[int, int, int]) -> float:
    def channel(v: int) -> float:
        v /= 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(v) for v in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def colours(image: Image.Image, box: tuple[int, int, int, int]) -> Counter:
    left, top, right, bottom = (max(0, v) for v in box)
    crop = image.crop((left, top, min(right, image.width), min(bottom, image.height)))
    return Counter({rgb: n for n, rgb in (crop.getcolors(crop.width * crop.height) or [])})


def strongest(found: Counter, against) -> tuple[int, int, int]:
    return max(found, key=lambda rgb: contrast(rgb, against))


def measure(shot: Image.Image, boxes: dict) -> tuple[list[str], Counter]:
    """Problems found on the screenshot, and the page's most common colours."""
    problems = []
    for b in boxes["buttons"]:
        x, y, w, h = (round(v * SCALE) for v in (b["x"], b["y"], b["w"], b["h"]))
        band = 3 * SCALE
        inside = colours(shot, (x + band, y + band, x + w - band, y + h - band))
        edge = colours(shot, (x, y, x + w, y + h))
        edge.subtract(inside)
        ring = colours(shot, (x - 10 * SCALE, y - 10 * SCALE, x + w + 10 * SCALE, y + h + 10 * SCALE))
        ring.subtract(colours(shot, (x - 4 * SCALE, y - 4 * SCALE, x + w + 4 * SCALE, y + h + 4 * SCALE)))
        fill, rim, around = (c.most_common(1)[0][0] for c in (inside, +edge, +ring))
        label = strongest(inside, fill)
        if contrast(rim, around) < 3:
            problems.append(f"button {b['what']}: edge {rim} on {around} = {contrast(rim, around):.2f} < 3")
        if contrast(label, fill) < 4.5:
            problems.append(f"button {b['what']}: label {label} on {fill} = {contrast(label, fill):.2f} < 4.5")
    for t in boxes["texts"]:
        x, y, w, h = (round(v * SCALE) for v in (t["x"], t["y"], t["w"], t["h"]))
        inside = colours(shot, (x, y, x + w, y + h))
        if not inside:
            continue
        background = inside.most_common(1)[0][0]
        text, need = strongest(inside, background), 3 if t["large"] else 4.5
        if contrast(text, background) < need:
            problems.append(f"text {t['what']}: {text} on {background} = {contrast(text, background):.2f} < {need}")
    small = shot.reduce(4)   # the page's main colour needs no full-size count
    return problems, colours(small, (0, 0, small.width, small.height))


def forced_dark(forced_dark_browser, variant: EmailVariant, width: int) -> tuple[list[str], Counter, dict]:
    context = forced_dark_browser.new_context(viewport={"width": width, "height": 800}, color_scheme="light",
                                              device_scale_factor=SCALE)
    try:
        page = open_email(context, EmailVariant(variant.label, _COLOR_SCHEME.sub("", variant.html),
                                                variant.folder, variant.base))
        boxes = page.evaluate(BOXES_JS)
        shot = Image.open(io.BytesIO(page.screenshot(full_page=True))).convert("RGB")
    finally:
        context.close()
    problems, palette = measure(shot, boxes)
    return problems, palette, boxes


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.id)
def test_forced_dark_keeps_text_and_buttons_readable(sample: Sample, builds, forced_dark_browser) -> None:
    problems = []
    for variant in variants_of(builds, [sample]):
        for width in FORCED_DARK_WIDTHS:
            found, palette, boxes = forced_dark(forced_dark_browser, variant, width)
            assert boxes["buttons"] and len(boxes["texts"]) > 10, variant.label
            page_colour = palette.most_common(1)[0][0]
            assert luminance(page_colour) < 0.2, f"{variant.label}: not darkened ({page_colour})"
            problems += [f"{variant.label} at {width}px, forced dark: {p}" for p in found]
    assert problems == []


def test_forced_dark_measurement_sees_a_button_that_disappears(forced_dark_browser, email_variants) -> None:
    """The control: a button whose fill is the page's own background colour fails the 3:1 check,
    and the same email without it passes."""
    original = email_variants[0]
    html = original.html.replace("</body>", '<div style="background:#ffffff;padding:20px"><a href="https://example.org/x" '
                                 'style="display:inline-block;background:#fefefe;color:#000000;font-size:16px;'
                                 'padding:12px 24px">Ghost</a></div></body>')
    found, _, boxes = forced_dark(forced_dark_browser, EmailVariant("control", html, original.folder, original.base), 600)
    assert any('button a "Ghost": edge' in p for p in found), found

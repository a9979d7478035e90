"""Issue 18, the redesigned default theme: link texts that say where they go, styles that are
used and win, phone numbers as tel: links, fallback texts marked with their language, the
table of contents of long editions, the masthead (with a dark-mode logo), Outlook's rounded
buttons and font, and no height="auto" on any image."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from newsletter.core.config import load_workspace
from newsletter.content.loader import load_edition
from newsletter.render import render_variant
from newsletter.render.context import TOC_MIN_SECTIONS
from newsletter.render.views import tel_href

from tests.support.samples import ALL, ROOT, Sample
from .test_browser import open_page, variant_pages

_STYLE = re.compile(r"<style[^>]*>(.*?)</style>", re.S)
_INLINE_STYLE = re.compile(r'<mj-style inline="inline">(.*?)</mj-style>', re.S)
_CLASS_IN_SELECTOR = re.compile(r"\.([A-Za-z][\w-]*)")


class _Links(HTMLParser):
    """Every link: (accessible name, href). The name is aria-label when there is one, else
    the link's text (with the alt text of images inside it)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._open: list[tuple[str, str | None, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self._open.append((a["href"] or "", a.get("aria-label"), []))
        elif tag == "img" and self._open:
            self._open[-1][2].append(a.get("alt") or "")

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1][2].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open:
            href, label, parts = self._open.pop()
            self.links.append((" ".join((label or " ".join(parts)).split()).casefold(), href))


def links_of(html: str) -> list[tuple[str, str]]:
    parser = _Links()
    parser.feed(html)
    return parser.links


def variants_html(builds, sample: Sample) -> list[tuple[str, str, Path]]:
    build = builds[sample.id]
    return [(v["key"], (build.out_dir / v["files"]["html"]).read_text(encoding="utf-8"), build.out_dir / v["key"])
            for v in build.manifest["variants"]]


def same_text_other_places(html: str) -> dict[str, set[str]]:
    seen: dict[str, set[str]] = {}
    for name, href in links_of(html):
        seen.setdefault(name, set()).add(href)
    return {name: hrefs for name, hrefs in seen.items() if len(hrefs) > 1}


@pytest.mark.parametrize("sample", ALL, ids=lambda s: s.id)
def test_no_two_links_with_the_same_name_lead_to_different_places(sample: Sample, builds) -> None:
    for key, html, _ in variants_html(builds, sample):
        assert [n for n, _ in links_of(html) if not n] == [], (sample.id, key)   # every link has a name
        assert same_text_other_places(html) == {}, (sample.id, key)


def test_the_link_name_check_sees_repeated_link_texts() -> None:
    """The control: two "Register" links to two events fail; a distinct aria-label passes."""
    bad = '<a href="https://x.org/a">Register</a> <a href="https://x.org/b">Register</a>'
    good = '<a href="https://x.org/a" aria-label="Register for A">Register</a> <a href="https://x.org/b">Register</a>'
    assert same_text_other_places(bad) == {"register": {"https://x.org/a", "https://x.org/b"}}
    assert same_text_other_places(good) == {}


def test_register_and_unsubscribe_are_unmistakable_in_every_language() -> None:
    """The German pair was "Anmelden"/"Abmelden": one letter apart. In every language the two
    words now differ in more than a few letters (and neither contains the other)."""
    table = yaml.safe_load((ROOT / "templates" / "strings.yaml").read_text(encoding="utf-8"))
    for lang, words in table.items():
        register, unsubscribe = words["register"].casefold(), words["unsubscribe"].casefold()
        assert _distance(register, unsubscribe) >= 6, (lang, register, unsubscribe)
    assert (table["de"]["register"], table["de"]["unsubscribe"]) == ("Zur Anmeldung", "Newsletter abbestellen")


def _distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def theme_classes(html: str) -> set[str]:
    """The classes the theme's own <style> rules name (MJML's mj-* classes left out)."""
    css = re.sub(r"/\*.*?\*/", "", "\n".join(_STYLE.findall(html)), flags=re.S)
    selectors = re.findall(r"([^{}]+)\{", css)
    return {c for s in selectors for c in _CLASS_IN_SELECTOR.findall(s)
            if not c.startswith(("mj-", "moz-")) and c not in ("ReadMsgBody", "ExternalClass")}


def test_every_class_the_styles_name_is_used(builds) -> None:
    """No dead rule: every class in the theme's <style> blocks and in its inlined styles
    (read from the MJML) is on some element of some variant of the samples."""
    used: set[str] = set()
    named: set[str] = set()
    for sample in ALL:
        for _key, html, folder in variants_html(builds, sample):
            used |= {c for attr in re.findall(r'\sclass="([^"]*)"', html) for c in attr.split()}
            named |= theme_classes(html)
            mjml = (folder / "email.mjml").read_text(encoding="utf-8")
            named |= {c for css in _INLINE_STYLE.findall(mjml) for c in _CLASS_IN_SELECTOR.findall(css)}
    assert len(named) > 15
    assert named - used == set()


# For each rule of the inlined stylesheet: how many elements it matches and on how many of
# them each of its declarations is the value the element ends up with. The expected value is
# read from a probe: a copy of the element (same tag, classes and style) with the declaration
# set on it with !important, in the same place, so relative units resolve alike.
WINS_JS = """
(rules) => rules.map(([selector, declarations]) => {
  const els = [...document.querySelectorAll(selector)];
  const lost = [];
  for (const [prop, value] of declarations) {
    let won = 0;
    for (const el of els) {
      const probe = el.cloneNode(false);
      probe.style.setProperty(prop, value, 'important');
      el.parentNode.insertBefore(probe, el);
      if (getComputedStyle(probe).getPropertyValue(prop) === getComputedStyle(el).getPropertyValue(prop)) won++;
      probe.remove();
    }
    lost.push([prop, won, els.length]);
  }
  return {selector, matched: els.length, lost};
})
"""


def inline_rules(mjml: str) -> list[tuple[str, list[tuple[str, str]]]]:
    css = re.sub(r"/\*.*?\*/", "", "\n".join(_INLINE_STYLE.findall(mjml)), flags=re.S)
    out = []
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        declarations = [tuple(p.strip() for p in d.split(":", 1)) for d in body.split(";") if ":" in d]
        for selector in selectors.split(","):
            out.append((" ".join(selector.split()), declarations))
    return out


@pytest.mark.browser
def test_the_event_and_meta_styles_win_and_no_inlined_rule_is_dead(builds, browser) -> None:
    """The two dead rules of the old theme (.meta lost to .t p; .event padding lost to MJML's)
    are gone: every rule of the inlined stylesheet decides at least one element's style, and
    the event card's rules decide every element they match."""
    sample = next(s for s in ALL if s.label == "root" and s.edition == "2026-11")
    label, html, folder, base = max(variant_pages(builds, [sample]), key=lambda p: len(p[1]))
    mjml = (folder / label.split(":")[1] / "email.mjml").read_text(encoding="utf-8")
    rules = inline_rules(mjml)
    page = open_page(browser, 600, folder, base)
    try:
        page.set_content(html, wait_until="load")
        results = page.evaluate(WINS_JS, [[s, d] for s, d in rules])
    finally:
        page.close()
    by_selector = {r["selector"]: r for r in results}
    unmatched = [r["selector"] for r in results if r["matched"] == 0 and not _optional(r["selector"])]
    assert unmatched == []
    dead = [(r["selector"], prop) for r in results if r["matched"] for prop, won, _n in r["lost"] if won == 0]
    assert dead == []
    for selector in (".t p.meta", ".t .ev td", ".t .badge"):
        assert by_selector[selector]["matched"] > 0, selector
        assert [(p, w, n) for p, w, n in by_selector[selector]["lost"] if w != n] == [], selector


def _optional(selector: str) -> bool:
    # Markdown and quote styles apply only where an editor writes such things.
    return any(part in selector for part in ("code", "blockquote", "img", ".quote", " ol", " ul", " li", "h1 a", "h3 a"))


def test_phone_numbers_become_tel_links_with_digits_only() -> None:
    assert tel_href("+49 711 555 0142") == "tel:+497115550142"
    assert tel_href("(516) 555-0199") == "tel:5165550199"
    assert tel_href(" +1 (212) 555.01.99 ") == "tel:+12125550199"


def test_resources_show_phone_numbers_as_tel_links(builds) -> None:
    sample = next(s for s in ALL if s.label == "root" and s.edition == "2026-11")
    _key, html, _ = variants_html(builds, sample)[0]
    assert '<a href="tel:+497115550142"' in html and ">+49 711 555 0142</a>" in html


def test_a_block_that_falls_back_carries_the_default_language(builds) -> None:
    """es: the leaders article's body and the resources' descriptions have no Spanish text."""
    sample = next(s for s in ALL if s.label == "root" and s.edition == "2026-11")
    html = dict((k, h) for k, h, _ in variants_html(builds, sample))["es+leaders"]
    assert re.search(r'<div lang="en"[^>]*>\s*<p[^>]*>Please send your centre', html)
    assert re.search(r'<p lang="en"[^>]*>A 20-page guide', html)
    assert 'lang="en"' not in dict((k, h) for k, h, _ in variants_html(builds, sample))["de"].split("<body", 1)[1]


def test_long_editions_get_a_table_of_contents_and_short_ones_none(builds) -> None:
    for sample in ALL:
        loaded = sample.loaded()
        html = variants_html(builds, sample)[0][1]
        titled = [b for b in loaded.edition.blocks if b.audience is None and b.type in
                  ("article", "events", "cards", "resources", "cta") and getattr(b, "title", None)]
        has_toc = 'class="toc"' in html
        assert has_toc == (len(titled) >= TOC_MIN_SECTIONS), sample.id
        if has_toc:
            targets = re.findall(r'class="toc".*?</ol>', html, re.S)[0]
            assert len(re.findall(r'href="#', targets)) == len(titled), sample.id


def test_the_masthead_comes_first_with_edition_and_localized_date(builds) -> None:
    sample = next(s for s in ALL if s.label == "root" and s.edition == "2026-11")
    html = dict((k, h) for k, h, _ in variants_html(builds, sample))
    body = html["de"].split("<body", 1)[1].split(">", 1)[1]
    body = re.sub(r'<div class="preheader".*?</div>', "", body, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", body)
    first = " ".join(text.split())[:80]
    assert first.startswith("Ausgabe 14 · Donnerstag, 5. November 2026"), first
    assert ">20</span>" in html["de"] and ">Nov.</span>" in html["de"]   # the event's date badge


def test_buttons_are_rounded_vml_in_outlook_and_outlook_gets_a_web_safe_font(builds) -> None:
    sample = next(s for s in ALL if s.label == "root" and s.edition == "2026-11")
    _key, html, _ = variants_html(builds, sample)[0]
    buttons = re.findall(r'<div class="btn"[^>]*>(.*?)</div>', html, re.S)
    assert buttons
    for button in buttons:
        vml = re.search(r'<!--\[if mso\]><v:roundrect [^>]*href="([^"]+)"[^>]*arcsize="\d+%"', button)
        link = re.search(r'<!--\[if !mso\]><!--><a href="([^"]+)"', button)
        assert vml and link and vml.group(1) == link.group(1), button[:200]
    assert re.search(r"<!--\[if mso\]><style>[^<]*font-family: Arial, Helvetica, sans-serif !important", html)


@pytest.mark.parametrize("sample", ALL, ids=lambda s: s.id)
def test_no_image_has_height_auto_and_alt_text_is_styled(sample: Sample, builds) -> None:
    for key, html, _ in variants_html(builds, sample):
        images = re.findall(r"<img\b[^>]*>", html)
        assert [i for i in images if 'height="auto"' in i] == [], key
        assert [i for i in images if "font-family" not in i or "color" not in i] == [], key


def test_card_pictures_fill_their_column_and_the_full_width_ones_share_one_width(builds) -> None:
    every = [(sample, key, html) for sample in ALL for key, html, _ in variants_html(builds, sample)]
    for sample, key, html in every:
        widths = {int(w) for w in re.findall(r'<img\b[^>]*\bwidth="(\d+)"', html)}
        assert widths <= {600, 262, 200, 120}, (sample.id, key, widths)
    assert any('class="mj-full-width-mobile"' in html for _, _, html in every)   # card pictures: full width on phones
    # A row where one card has a picture and the other none: a box of the picture's height.
    mixed = [html for _, _, html in every if 'class="ph"' in html]
    assert mixed
    for html in mixed:
        box = int(re.search(r'class="ph".*?<div style="height:(\d+)px', html, re.S).group(1))
        beside = [int(h) for h in re.findall(r'<img\b[^>]*\bheight="(\d+)"[^>]*\bwidth="262"', html)]
        assert box in beside, (box, beside)


def test_a_dark_logo_swaps_in_dark_mode(sample_ws: Path) -> None:
    settings = sample_ws / "newsletter.yaml"
    # The sample has a dark logo of its own (a workspace file): first none, then a web address.
    text = re.sub(r"^  logo_dark: .*\n", "", settings.read_text(encoding="utf-8"), flags=re.M)
    settings.write_text(text, encoding="utf-8")
    without = render_variant(load_workspace(sample_ws), load_edition(load_workspace(sample_ws), "2026-11"), "en").html
    assert "logo-dark" not in without
    logo = re.search(r"^  logo: .*$", text, re.M)
    assert logo
    settings.write_text(text.replace(logo.group(0), logo.group(0) + "\n  logo_dark: https://mcin.example.org/assets/logo-dark.png"),
                        encoding="utf-8")
    ws = load_workspace(sample_ws)
    html = render_variant(ws, load_edition(ws, "2026-11"), "en").html
    assert re.search(r'<a [^>]*class="logo-light"[^>]*><img [^>]* src="https://[^"]+/logo\.[0-9a-f]+\.png"', html)
    assert re.search(r'<div class="logo-dark" style="display:none;[^"]*"><a [^>]*><img [^>]*src="https://mcin.example.org/assets/logo-dark.png"', html)
    assert re.search(r"@media \(prefers-color-scheme: dark\) \{[^@]*\.logo-dark \{ display: block !important", html)
    assert "[data-ogsc] .logo-dark { display: block !important" in html


def test_a_control_character_in_an_editors_text_is_dropped_not_fatal(kitchen_ws: Path) -> None:
    """MRML refuses a document holding \\x08; a pasted control character must not stop the edition."""
    path = kitchen_ws / "issues" / "2099-01" / "edition.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "title: A call to action without text", 'title: "A call\\bto action"'), encoding="utf-8")
    ws = load_workspace(kitchen_ws)
    variant = render_variant(ws, load_edition(ws, "2099-01"), "en")
    assert "A callto action" in variant.html and "\b" not in variant.html + variant.text


def test_the_national_association_keeps_its_own_look(builds) -> None:
    """examples/namc overrides colours and fonts (serif, teal) through its colors.j2 only."""
    namc = next(s for s in ALL if s.label == "namc")
    root = next(s for s in ALL if s.label == "root" and s.edition == "2026-11")
    theirs, ours = variants_html(builds, namc)[0][1], variants_html(builds, root)[0][1]
    assert "font-family:Georgia" in theirs and "font-family:Georgia" not in ours
    assert "font-family: Georgia, Times New Roman, serif !important" in theirs      # Outlook's fallback
    assert "#0b5e7a" in theirs and "#9b2457" not in theirs                          # its accent, not ours
    assert 'class="badge"' in theirs and 'class="btn"' in theirs and 'class="toc"' in theirs   # the new structure

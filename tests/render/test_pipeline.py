"""The rendering pipeline: variants, merge-field placeholders, escaping, image URLs, purity."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from newsletter.core.config import load_workspace
from newsletter.content.loader import load_edition

from newsletter.core.errors import RenderError
from newsletter.render import render_edition, render_mjml, render_variant, variants

from tests.support.samples import ROOT


def load(ws_dir: Path, edition: str):
    ws = load_workspace(ws_dir)
    return ws, load_edition(ws, edition)


def edit(ws_dir: Path, edition: str, old: str, new: str) -> None:
    path = ws_dir / "issues" / edition / "edition.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_variants_are_every_language_with_every_subset_of_audiences(kitchen_ws: Path) -> None:
    ws, loaded = load(kitchen_ws, "2099-01")
    subsets = [(), ("leaders",), ("partners",), ("leaders", "partners")]
    assert variants(ws, loaded) == [("en", s) for s in subsets] + [("ar", s) for s in subsets]


def test_an_edition_without_audience_blocks_has_one_variant_per_language(sample_ws: Path) -> None:
    edit(sample_ws, "2026-11", "    audience: leaders\n", "")
    ws, loaded = load(sample_ws, "2026-11")
    assert variants(ws, loaded) == [("en", ()), ("de", ()), ("es", ())]


def test_audiences_are_sorted_and_unused_ones_dropped(kitchen_ws: Path) -> None:
    ws, loaded = load(kitchen_ws, "2099-01")
    variant = render_variant(ws, loaded, "en", ("partners", "nobody", "leaders"))
    assert variant.audiences == ("leaders", "partners")
    assert variant.key == "en+leaders+partners"


def test_a_language_the_edition_lacks_is_refused(sample_ws: Path) -> None:
    ws, loaded = load(sample_ws, "2026-11")
    with pytest.raises(RenderError, match="no language 'fr'"):
        render_variant(ws, loaded, "fr", ())


def test_merge_fields_become_placeholders_registered_per_variant(sample_ws: Path) -> None:
    ws, loaded = load(sample_ws, "2026-11")
    variant = render_variant(ws, loaded, "de", ("leaders",))
    fields = {token: (f.field, f.default) for token, f in variant.fields.items()}
    assert fields == {
        "%%MF0%%": ("unsubscribe_url", "https://mcin.example.org/newsletter/unsubscribe"),
        "%%MF1%%": ("preferences_url", "https://mcin.example.org/newsletter/preferences"),
        "%%MF2%%": ("first_name", "Freundinnen und Freunde"),
        "%%MF3%%": ("attributes.centre", "Ihr Mütterzentrum"),
    }
    for part in (variant.html, variant.text):
        assert "{{" not in part
        assert set(variant.token_re.findall(part)) == {"0", "1", "2", "3"}
    assert "Liebe %%MF2%%, in diesem Monat" in variant.html
    assert 'href="%%MF0%%"' in variant.html and 'href="%%MF1%%"' in variant.html
    assert "\n%%MF0%%\n" in variant.text


def test_the_same_field_with_the_same_default_shares_one_token(kitchen_ws: Path) -> None:
    edit(kitchen_ws, "2099-01", "Do the thing now, please.",
         'Do it now, {{ first_name or "friends" }}, {{ first_name or "friends" }} and {{ first_name }}.')
    ws, loaded = load(kitchen_ws, "2099-01")
    variant = render_variant(ws, loaded, "en", ())
    first_names = [(t, f.default) for t, f in variant.fields.items() if f.field == "first_name"]
    assert sorted(d for _, d in first_names) == ["", "friends", "tester"]
    friends = next(t for t, d in first_names if d == "friends")
    assert variant.html.count(friends) == 3   # the hero's title, and twice in the call to action
    plain = next(t for t, d in first_names if d == "")
    assert f"Do it now, {friends}, {friends} and {plain}." in variant.text


def test_subject_and_preheader_keep_their_placeholders(kitchen_ws: Path) -> None:
    ws, loaded = load(kitchen_ws, "2099-01")
    variant = render_variant(ws, loaded, "en", ())
    token = next(t for t, f in variant.fields.items() if f.default == "tester")
    assert variant.preheader == f"Hello {token}, this edition shows everything the theme can do."
    assert variant.preheader in variant.html


def test_a_merge_field_in_a_markdown_link_survives(kitchen_ws: Path) -> None:
    edit(kitchen_ws, "2099-01", "Do the thing now, please.", "'[Your page](https://kitchen.example.org/p?n={{first_name}})'")
    ws, loaded = load(kitchen_ws, "2099-01")
    variant = render_variant(ws, loaded, "en", ())
    name = next(t for t, f in variant.fields.items() if f.field == "first_name" and f.default == "")
    # the whole link is one field, filled and checked per recipient (content.merge.fill_url)
    link = next(t for t, f in variant.fields.items() if f.field == "url")
    assert variant.fields[link].template == f"https://kitchen.example.org/p?n={name}"
    assert variant.fields[link].default == "https://kitchen.example.org/p?n="
    assert f'href="{link}"' in variant.html
    assert re.search(rf"^\[\d+\] {re.escape(link)}$", variant.text, re.M)


def test_editor_text_is_escaped_in_html_and_raw_in_text(kitchen_ws: Path) -> None:
    edit(kitchen_ws, "2099-01", "title: A call to action without text",
         'title: "Fish & chips <script>alert(1)</script> \\"quoted\\""')
    ws, loaded = load(kitchen_ws, "2099-01")
    variant = render_variant(ws, loaded, "en", ())
    assert "Fish &amp; chips &lt;script&gt;alert(1)&lt;/script&gt;" in variant.html
    # No script element: in text it is escaped; inside a quoted attribute value (a link's
    # accessible name) the HTML serializer may write '<' as it is, which runs nothing.
    assert "script" not in start_tags(variant.html)
    assert "<script>" not in re.sub(r'="[^"]*"', '=""', variant.html.split("<body", 1)[1])
    assert 'Fish & chips <script>alert(1)</script> "quoted"' in variant.text


def test_local_images_become_absolute_urls_under_the_asset_base(kitchen_ws: Path) -> None:
    ws, loaded = load(kitchen_ws, "2099-01")
    default = render_variant(ws, loaded, "en", ("leaders",))
    base = "https://kitchen.example.org/archive/2099-01/"
    srcs = re.findall(r'<img[^>]* src="([^"]+)"', default.html)
    # Published names carry a hash of the image: a corrected image never hides behind a cached one.
    wide = next(s for s in srcs if s.startswith(f"{base}images/wide."))
    assert re.fullmatch(re.escape(base) + r"images/wide\.[0-9a-f]{10}\.png", wide)
    assert any(re.fullmatch(re.escape(base) + r"logo\.[0-9a-f]{10}\.png", s) for s in srcs)
    assert "https://kitchen.example.org/remote.png" in srcs
    assert all(s.startswith("https://") for s in srcs)
    name = wide.removeprefix(base)
    cdn = render_variant(ws, loaded, "en", ("leaders",), asset_base_url="https://cdn.example.net/n/1")
    assert f'src="https://cdn.example.net/n/1/{name}"' in cdn.html
    assert base + "images/" not in cdn.html
    # The image inside the Markdown body is rewritten too, with the size it is shown at.
    assert re.search(f'<img src="https://cdn.example.net/n/1/{re.escape(name)}" alt="A wide picture inside Markdown" '
                     r'width="\d+" height="\d+"', cdn.html)


def test_a_missing_translation_falls_back_to_the_default_language(sample_ws: Path) -> None:
    ws, loaded = load(sample_ws, "2026-11")
    variant = render_variant(ws, loaded, "es", ("leaders",))
    assert "Please send your centre's annual report" in variant.html       # body: English fallback
    assert "Para coordinadoras: informes anuales" in variant.html           # title: Spanish


def test_no_preferences_link_when_none_is_configured(sample_ws: Path) -> None:
    settings = sample_ws / "newsletter.yaml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(re.sub(r"\n  preferences: .*", "", text), encoding="utf-8")
    ws, loaded = load(sample_ws, "2026-11")
    variant = render_variant(ws, loaded, "en", ())
    assert [f.field for f in variant.fields.values()][:1] == ["unsubscribe_url"]
    assert "preferences_url" not in [f.field for f in variant.fields.values()]
    assert "Update your preferences" not in variant.html + variant.text


def test_rendering_is_pure_and_repeatable(sample_ws: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    ws, loaded = load(sample_ws, "2026-11")
    first = render_edition(ws, loaded)
    monkeypatch.chdir(tmp_path)                       # nothing depends on the current folder,
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")    # the machine's time zone
    monkeypatch.setenv("LANG", "de_DE.UTF-8")         # or its locale
    again = render_edition(ws, loaded)
    single = render_variant(ws, loaded, "es", ("leaders",))   # nor on what was rendered before
    assert first == again
    assert single == next(v for v in first if v.key == "es+leaders")


def test_render_mjml_gives_the_generated_mjml(sample_ws: Path) -> None:
    ws, loaded = load(sample_ws, "2026-11")
    mjml = render_mjml(ws, loaded, "de", ())
    assert mjml.startswith('<mjml lang="de" dir="ltr">')
    assert '<mj-style inline="inline">' in mjml and 'class="preheader"' in mjml


def test_the_repository_default_workspace_is_the_sample() -> None:
    ws, loaded = load(ROOT, "2026-11")
    assert loaded.edition.number >= 1 and ws.templates_dir == ROOT / "templates"


def test_raw_html_in_markdown_is_shown_as_text_never_run(kitchen_ws: Path) -> None:
    edit(kitchen_ws, "2099-01", "Do the thing now, please.",
         "'Before <script>alert(1)</script> and <img src=x onerror=alert(2)> after'")
    ws, loaded = load(kitchen_ws, "2099-01")
    variant = render_variant(ws, loaded, "en", ())
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in variant.html
    assert "<script" not in variant.html and "<img src=x" not in variant.html
    assert "Before <script>alert(1)</script> and <img src=x onerror=alert(2)> after" in variant.text


def start_tags(html: str) -> set[str]:
    found: set[str] = set()

    class Tags(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list) -> None:
            found.add(tag)

    Tags().feed(html)
    return found

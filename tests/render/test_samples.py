"""The issue's "Done when", for every sample edition that exists (and the kitchen-sink test
edition): build writes every variant, twice gives the same bytes, and every variant's HTML and
text pass the checks a mail client would make us pay for."""
from __future__ import annotations

import re
from html import escape
from pathlib import Path

import pytest

from newsletter.content.model import text_for
from newsletter.render import variant_key, variants
from newsletter.publish.build import build_edition
from newsletter.check.lints import CLIP_BYTES, is_absolute, is_local, scan_html

from tests.support.samples import ALL, GOLDEN, SAMPLES, Sample
from .htmlparse import parse

BARE_URL = re.compile(r"^\s*(https?://|mailto:|%%MF\d+%%)\S*$")


def test_there_are_sample_editions() -> None:
    assert any(s.label == "root" for s in SAMPLES), "the repository's own sample editions are missing"


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("sample", ALL, ids=lambda s: s.id)
def test_build_writes_every_variant(sample: Sample, builds) -> None:
    result = builds[sample.id]
    expected = [variant_key(lang, aud) for lang, aud in variants(sample.ws(), sample.loaded())]
    assert [v["key"] for v in result.manifest["variants"]] == expected
    for key in expected:
        for name in ("email.html", "email.txt", "email.mjml"):
            assert (result.out_dir / key / name).stat().st_size > 0
    for image in result.manifest["images"]:
        assert (result.out_dir / image).is_file()
    assert not [f for f in result.manifest["lint"] if f["level"] == "error"]


@pytest.mark.parametrize("sample", ALL, ids=lambda s: s.id)
def test_building_twice_gives_identical_bytes(sample: Sample, builds, tmp_path: Path) -> None:
    again = build_edition(sample.ws(), sample.edition, tmp_path / "again")
    first, second = tree(builds[sample.id].out_dir), tree(again.out_dir)
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []


def variants_of(result) -> list[tuple[dict, str, str]]:
    out = []
    for v in result.manifest["variants"]:
        html = (result.out_dir / v["files"]["html"]).read_text(encoding="utf-8")
        text = (result.out_dir / v["files"]["text"]).read_text(encoding="utf-8")
        out.append((v, html, text))
    return out


def fill(text: str, fields: dict) -> str:
    return re.sub(r"%%MF[A-Z]*\d+%%", lambda m: fields[m.group(0)]["default"], text)


@pytest.mark.parametrize("sample", ALL, ids=lambda s: s.id)
def test_every_variant_is_mail_client_safe(sample: Sample, builds) -> None:
    rtl = sample.ws().settings.languages.rtl
    for entry, html, text in variants_of(builds[sample.id]):
        key, lang = entry["key"], entry["language"]
        assert len(html.encode("utf-8")) <= CLIP_BYTES, key
        assert "<link" not in html and "@import" not in html, key   # no remote stylesheet or font
        scan = parse(html)
        assert (scan.html_attrs["lang"], scan.html_attrs["dir"]) == (lang, "rtl" if lang in rtl else "ltr"), key
        assert scan.images, key
        assert [i.get("src") for i in scan.images if not (i.get("alt") or "").strip()] == [], key
        links = [fill(href, entry["fields"]) for href in scan.links]
        assert [h for h in links if not (is_absolute(h) or is_local(h))] == [], key
        ids = set(re.findall(r'\sid="([^"]+)"', html))
        assert [h for h in links if h.startswith("#") and h[1:] not in ids] == [], key  # the contents' targets exist
        filled_text = fill(text, entry["fields"])
        assert [h for h in dict.fromkeys(links) if h not in filled_text and not is_local(h)] == [], key
        long = [line for line in text.split("\n") if len(line) > 78 and not BARE_URL.match(line)]
        assert long == [], key


@pytest.mark.parametrize("sample", ALL, ids=lambda s: s.id)
def test_audience_blocks_only_in_their_variants(sample: Sample, builds) -> None:
    loaded = sample.loaded()
    titled = [b for b in loaded.edition.blocks if b.audience and getattr(b, "title", None)]
    for entry, html, text in variants_of(builds[sample.id]):
        words = " ".join(text.split())   # titles wrap in the text part
        for block in titled:
            title = text_for(block.title, entry["language"], loaded.default_language)
            shown = escape(title, quote=False) in html
            assert shown == (title in words) == (block.audience in entry["audiences"]), (entry["key"], title)


def golden_html(html: str) -> str:
    """The HTML with a line break after every '>', so that a change reads well in a diff.
    Still pins every byte: the break is undone by replacing '>\\n' with '>'."""
    return html.replace(">", ">\n")


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.id)
def test_golden_files(sample: Sample, builds, update_golden: bool) -> None:
    """The HTML and text of every variant, pinned. Refresh with: pytest --update-golden"""
    folder = GOLDEN / sample.label / sample.edition
    changed, missing = [], []
    for entry, html, text in variants_of(builds[sample.id]):
        assert golden_html(html).replace(">\n", ">") == html
        for suffix, content in ((".html", golden_html(html)), (".txt", text)):
            path = folder / f"{entry['key']}{suffix}"
            if update_golden:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content.encode("utf-8"))
            elif not path.is_file():
                missing.append(path.name)
            elif path.read_bytes() != content.encode("utf-8"):
                changed.append(path.name)
    hint = "review the change, then refresh with: pytest tests/render --update-golden"
    assert missing == [], f"no golden file for {missing} in {folder}; {hint}"
    assert changed == [], f"output differs from {folder} for {changed}; {hint}"


@pytest.mark.parametrize("sample", ALL, ids=lambda s: s.id)
def test_the_lints_html_reader_agrees_with_a_real_html_parser(sample: Sample, builds) -> None:
    for entry, html, _text in variants_of(builds[sample.id]):
        fast, real = scan_html(html), parse(html)
        assert (fast.lang, fast.images, fast.links) == (real.html_attrs["lang"], real.images, real.links)
        assert fast.text == real.text, entry["key"]

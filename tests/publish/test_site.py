"""The public site: archive pages for a neutral reader, index and Atom feed per language,
calendar files; pinned by golden files (refresh with --update-golden, review the diff)."""
from __future__ import annotations

import datetime as dt
import posixpath
import re
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest
from click.testing import CliRunner

from newsletter.cli import main
from newsletter.core.config import load_workspace
from newsletter.content.loader import edition_names
from newsletter.publish.site import build_site, choose_editions

from tests.support.samples import GOLDEN, fixture_workspace
from tests.support.workspaces import SAMPLE_WORKSPACES

TEXT_FILES = (".html", ".xml", ".ics", ".json")
SITE_GOLDEN = GOLDEN / "site"


def site_of(root: Path):
    ws = load_workspace(root)
    return ws, build_site(ws, edition_names(ws))


@pytest.fixture(scope="module")
def sample_site():
    return site_of(fixture_workspace("root"))


@pytest.mark.parametrize("label", sorted(SAMPLE_WORKSPACES))
def test_golden_site(label: str, update_golden: bool) -> None:
    """Every page, feed and calendar file of the sample editions, byte for byte; images by name.
    Refresh with: pytest tests/publish --update-golden"""
    _ws, site = site_of(fixture_workspace(label))
    folder = SITE_GOLDEN / label
    expected_names = (folder / "FILES").read_text(encoding="utf-8").split() if (folder / "FILES").exists() else None
    names = sorted(site.files)
    if update_golden:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "FILES").write_text("\n".join(names) + "\n", encoding="utf-8")
    else:
        assert names == expected_names, "the site's files changed; review, then pytest --update-golden"
    for name, data in site.files.items():
        if not name.endswith(TEXT_FILES):
            continue
        path = folder / name
        if update_golden:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        assert path.read_bytes() == data, f"{name} differs from {path}; review, then pytest --update-golden"


def test_the_same_editions_give_the_same_bytes(sample_site) -> None:
    _ws, first = sample_site
    _ws, again = site_of(fixture_workspace("root"))
    assert again.files == first.files


def test_no_token_placeholder_audience_text_or_personal_link_anywhere(sample_site) -> None:
    ws, site = sample_site
    forbidden = ["%%", "%25%25", "token=", "{{", ws.settings.urls.unsubscribe, ws.settings.urls.preferences,
                 # The leaders-only block of 2026-11 and 2026-10, in every language it has.
                 "For programme leaders", "Für Programmleitungen", "Para coordinadoras", "annual report",
                 "Jahresbericht"]
    assert any(name.endswith(".html") for name in site.files)
    for name, data in site.files.items():
        if name.endswith(TEXT_FILES):
            text = data.decode("utf-8")
            for needle in forbidden:
                assert needle not in text, f"{needle!r} in {name}"
    page = site.files["2026-11/de.html"].decode("utf-8")
    assert "Liebe Freundinnen und Freunde, in diesem Monat" in page        # the merge field's default


def test_every_language_version_links_the_others_and_they_exist(sample_site) -> None:
    ws, site = sample_site
    base = ws.settings.urls.archive.rstrip("/") + "/"
    pages = [n for n in site.files if n.endswith(".html")]
    for name in pages:
        html = site.files[name].decode("utf-8")
        lang = re.search(r'<html lang="([^"]+)"', html).group(1)
        alternates = dict(re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">', html))
        assert alternates.get(lang) == base + name, name                    # it names itself
        for code, url in alternates.items():
            assert url.startswith(base) and url[len(base):] in site.files, (name, url)
        feed = re.search(r'<link rel="alternate" type="application/atom\+xml" title="[^"]+" href="([^"]+)">', html)
        assert feed and feed.group(1) == f"{base}feed.{lang}.xml"
        # The language switcher's relative links resolve too.
        folder = name.rpartition("/")[0]
        for href in re.findall(r'<a href="([^"]+)" hreflang=', html):
            target = str(Path(folder, href)) if folder else href
            assert target in site.files, (name, href)
        # Images are relative to the page and published with it.
        for src in re.findall(r'<img src="([^"]+)"', html):
            if not src.startswith("http"):
                target = posixpath.normpath(posixpath.join(folder, src))   # ../logo.png: the site's root
                assert target in site.files, (name, src)


def test_index_lists_the_editions_newest_first_in_each_language(sample_site) -> None:
    _ws, site = sample_site
    index = site.files["index.html"].decode("utf-8")
    assert index.index('href="2026-11/en.html"') < index.index('href="2026-10/en.html"')
    spanish = site.files["index.es.html"].decode("utf-8")
    assert 'href="2026-11/es.html"' in spanish and "2026-10/" not in spanish   # 2026-10 has no Spanish
    assert site.languages == ["en", "de", "es"]


def test_feeds_are_valid_atom_with_every_required_element(sample_site) -> None:
    ws, site = sample_site
    for lang in site.languages:
        raw = site.files[f"feed.{lang}.xml"]
        parsed = feedparser.parse(raw)
        assert not parsed.bozo, parsed.get("bozo_exception")
        assert parsed.version == "atom10"
        feed = parsed.feed
        assert f'xml:lang="{lang}"'.encode() in raw
        assert feed.id and feed.title and feed.updated and feed.author
        self_links = [link.href for link in feed.links if link.rel == "self"]
        assert self_links == [f"{ws.settings.urls.archive}/feed.{lang}.xml"]
        assert parsed.entries, lang
        for entry in parsed.entries:
            assert entry.id.startswith("tag:mcin.example.org,") and entry.title and entry.updated and entry.author
            page = [link.href for link in entry.links if link.rel == "alternate"][0]
            assert urlsplit(page).path.startswith("/newsletter/") and page.endswith(f"/{lang}.html")
            assert page.removeprefix(ws.settings.urls.archive + "/") in site.files
            assert "%%" not in entry.content[0].value
        dates = [e.updated for e in parsed.entries]
        assert dates == sorted(dates, reverse=True)


def test_an_unchanged_edition_keeps_its_feed_id_and_date(sample_ws: Path) -> None:
    ws = load_workspace(sample_ws)
    before = feedparser.parse(build_site(ws, ["2026-10", "2026-11"]).files["feed.en.xml"])
    edition = sample_ws / "issues" / "2026-11" / "edition.yaml"
    edition.write_text(edition.read_text(encoding="utf-8").replace("number: 14", "number: 15"), encoding="utf-8")
    after = feedparser.parse(build_site(load_workspace(sample_ws), ["2026-10", "2026-11"]).files["feed.en.xml"])
    old = {e.id: e.updated for e in before.entries}
    new = {e.id: e.updated for e in after.entries}
    assert old == new and len(old) == 2


def test_an_edition_can_opt_out_of_the_archive(sample_ws: Path) -> None:
    edition = sample_ws / "issues" / "2026-10" / "edition.yaml"
    edition.write_text(edition.read_text(encoding="utf-8").replace("\nblocks:", "\narchive: false\nblocks:", 1),
                       encoding="utf-8")
    ws = load_workspace(sample_ws)
    site = build_site(ws, ["2026-10", "2026-11"])
    assert site.editions == ["2026-11"] and not any(n.startswith("2026-10/") for n in site.files)
    assert "2026-10" not in site.files["index.html"].decode("utf-8")
    result = CliRunner().invoke(main, ["-C", str(sample_ws), "publish", "2026-10"])
    assert result.exit_code == 1 and "archive: false" in result.output
    # Its email has no "view in browser" link: nothing would answer there.
    build = CliRunner().invoke(main, ["-C", str(sample_ws), "build", "2026-10"])
    assert build.exit_code == 0, build.output
    html = (sample_ws / "build" / "2026-10" / "en" / "email.html").read_text(encoding="utf-8")
    assert "/newsletter/2026-10/en.html" not in html and "View this email in your browser" not in html


def test_drafts_dated_later_stay_private_until_named(sample_ws: Path) -> None:
    ws = load_workspace(sample_ws)
    assert choose_editions(ws, [], [], dt.date(2026, 10, 20)) == ["2026-10"]
    assert choose_editions(ws, [], [], dt.date(2026, 11, 5)) == ["2026-10", "2026-11"]
    assert choose_editions(ws, ["2026-11"], [], dt.date(2026, 10, 1)) == ["2026-11"]
    assert choose_editions(ws, ["2026-11"], ["2026-10", "gone"], dt.date(2026, 10, 1)) == ["2026-10", "2026-11"]

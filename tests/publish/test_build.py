"""`newsletter build EDITION [-o DIR]` through the real command line."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from click.testing import CliRunner
from PIL import Image

from newsletter.cli import main

from tests.support.samples import ROOT


def run(ws: Path, *args: str):
    return CliRunner().invoke(main, ["-C", str(ws), *args])


def test_build_writes_variants_manifest_and_images_to_build_edition(sample_ws: Path) -> None:
    result = run(sample_ws, "build", "2026-11")
    assert result.exit_code == 0, result.output
    out = sample_ws / "build" / "2026-11"
    assert "Wrote 6 variant(s) of 2026-11 to build/2026-11/" in result.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["languages"] == ["en", "de", "es"] and manifest["audiences"] == ["leaders"]
    assert [v["key"] for v in manifest["variants"]] == ["en", "en+leaders", "de", "de+leaders", "es", "es+leaders"]
    for v in manifest["variants"]:
        assert v["key"] in result.output
        for kind, rel in v["files"].items():
            assert (out / rel).stat().st_size == v["sizes"][kind]
        assert v["fields"]["%%MF0%%"]["field"] == "unsubscribe_url"
    # Processed images under content-hashed names (content.images), still valid PNGs.
    assert [re.sub(r"\.[0-9a-f]{10}\.", ".", i) for i in manifest["images"]] == [
        "images/amina.png", "images/anniversary.png", "images/baby-cafe.png", "images/hero.png", "images/round-table.png",
        "logo-dark.png", "logo.png"]
    for image in manifest["images"]:
        with Image.open(out / image) as img:
            assert img.format == "PNG"
        assert image.rsplit(".", 2)[1] in (out / "en" / "email.html").read_text(encoding="utf-8")
    assert {f["code"] for f in manifest["lint"]} == {"fallback"}      # the Spanish gaps, as warnings
    assert manifest["asset_base_url"] == "https://mcin.example.org/newsletter/2026-11/"


def test_build_writes_the_web_archive_pages_view_in_browser_links_to(sample_ws: Path) -> None:
    assert run(sample_ws, "build", "2026-11").exit_code == 0
    out = sample_ws / "build" / "2026-11"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["archive"] == ["en.html", "de.html", "es.html"]
    page = (out / "de.html").read_text(encoding="utf-8")
    assert 'href="https://mcin.example.org/newsletter/2026-11/de.html"' in page   # links to itself
    assert "%%MF" not in page
    assert "Liebe Freundinnen und Freunde, in diesem Monat" in page
    assert 'href="https://mcin.example.org/newsletter/unsubscribe"' in page
    assert "Jahresberichte" not in page                  # no audience blocks in the public page


def test_output_folder_and_asset_base_url_options(sample_ws: Path, tmp_path: Path) -> None:
    out = tmp_path / "elsewhere"
    result = run(sample_ws, "build", "issues/2026-10/", "-o", str(out), "--asset-base-url", "https://cdn.example.net/x/")
    assert result.exit_code == 0, result.output
    html = (out / "en" / "email.html").read_text(encoding="utf-8")
    assert re.search(r'src="https://cdn\.example\.net/x/images/hero\.[0-9a-f]{10}\.png"', html)
    assert not (sample_ws / "build").exists()


def test_a_local_logo_is_copied_beside_the_images(kitchen_ws: Path) -> None:
    result = run(kitchen_ws, "build", "2099-01")
    assert result.exit_code == 0, result.output
    out = kitchen_ws / "build" / "2099-01"
    [logo] = list(out.glob("logo.*.png"))
    with Image.open(logo) as img, Image.open(kitchen_ws / "logo.png") as src:
        assert img.width == min(src.width, 400)         # twice the 200 px it is shown at, at most
    assert f'src="https://kitchen.example.org/archive/2099-01/{logo.name}"' in (out / "ar" / "email.html").read_text(encoding="utf-8")


def test_a_second_build_removes_what_the_last_build_wrote_and_nothing_else(sample_ws: Path) -> None:
    out = sample_ws / "build" / "2026-11"
    assert run(sample_ws, "build", "2026-11").exit_code == 0
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    path = sample_ws / "issues" / "2026-11" / "edition.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("    audience: leaders\n", ""), encoding="utf-8")
    assert run(sample_ws, "build", "2026-11").exit_code == 0
    assert sorted(re.sub(r"\.[0-9a-f]{10}\.", ".", p.name) for p in out.iterdir()) == [
        "de", "de.html", "en", "en.html", "es", "es.html", "images", "logo-dark.png", "logo.png", "manifest.json",
        "notes.txt"]


def test_lint_errors_fail_the_build_but_the_files_are_written(sample_ws: Path) -> None:
    shutil.rmtree(sample_ws / "templates")
    (sample_ws / "templates" / "layout").mkdir(parents=True)
    footer = (ROOT / "templates" / "layout" / "footer.txt.j2").read_text(encoding="utf-8")
    (sample_ws / "templates" / "layout" / "footer.txt.j2").write_text(
        footer.replace("{{ urls.unsubscribe }}", "(see the HTML part)"), encoding="utf-8")
    result = run(sample_ws, "build", "2026-11")
    assert result.exit_code == 1
    assert "the text part has no unsubscribe link [unsubscribe]" in result.output
    assert "Error: 6 lint error(s)" in result.output
    assert (sample_ws / "build" / "2026-11" / "en" / "email.txt").is_file()


def test_an_unknown_edition_is_a_clear_error(sample_ws: Path) -> None:
    result = run(sample_ws, "build", "2026-12")
    assert result.exit_code == 1
    assert "no edition '2026-12'" in result.output and "Traceback" not in result.output

"""The archive in a real Chromium: readable on a phone and a desktop without horizontal
scrolling, and axe-core finds no serious or critical accessibility violation."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsletter.core.config import load_workspace
from newsletter.content.loader import edition_names
from newsletter.publish.site import build_site
from newsletter.publish.targets import LocalTarget

from tests.conftest import require_tool
from tests.support.samples import KITCHEN, ROOT, fixture_workspace

AXE = ROOT / "tools" / "node_modules" / "axe-core" / "axe.min.js"
PAGES = ["index.html", "index.de.html", "2026-11/en.html", "2026-11/de.html", "2026-10/de.html"]


@pytest.fixture(scope="module")
def site_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("site")
    for root in (fixture_workspace("root"), KITCHEN):
        ws = load_workspace(root)
        LocalTarget(folder / root.name).sync(build_site(ws, edition_names(ws)).files)
    return folder


def axe_violations(page) -> list[dict]:
    require_tool(AXE.is_file(), "axe-core (tools/node_modules, `make node`)")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["html"][:120] for n in v["nodes"][:3]]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("width", [375, 1280])
def test_archive_pages_fit_the_screen_and_pass_axe(browser, site_dir: Path, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900}, java_script_enabled=True)
    page = context.new_page()
    pages = [f"root/{p}" for p in PAGES] + [f"{KITCHEN.name}/2099-01/{lang}.html" for lang in ("en", "ar")]
    try:
        for name in pages:
            page.goto((site_dir / name).as_uri())
            assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} scrolls sideways at {width} px"
            assert page.evaluate("document.querySelectorAll('script').length") == 0
            violations = axe_violations(page)
            assert violations == [], f"{name} at {width} px:\n{json.dumps(violations, indent=1)}"
    finally:
        context.close()


def test_pages_read_without_javascript(browser, site_dir: Path) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 800}, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto((site_dir / "root" / "2026-11" / "de.html").as_uri())
        assert page.locator("h1").inner_text().startswith("Neues im November")
        assert page.locator("nav.languages a[hreflang=en]").count() == 1
        image = page.locator("img[src^='./images/hero.']")
        assert image.evaluate("img => img.complete && img.naturalWidth") == 1200
    finally:
        context.close()

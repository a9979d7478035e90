"""Fixtures for the client-compatibility tests (issue 18): every variant of the sample
editions, rendered once per session (the ``builds`` fixture) and opened in the one shared
Chromium (``browser``) or in the forced-dark one."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import CHROMIUM_FLAGS, chromium_path
from tests.support.samples import SAMPLES, Sample


@dataclass(frozen=True)
class EmailVariant:
    """One built variant: "root/2026-11:de+leaders", its HTML and where its images are."""

    label: str
    html: str
    folder: Path
    base: str


def variants_of(builds, samples: list[Sample]) -> list[EmailVariant]:
    out = []
    for sample in samples:
        build = builds[sample.id]
        base = build.manifest["asset_base_url"]
        for v in build.manifest["variants"]:
            html = (build.out_dir / v["files"]["html"]).read_text(encoding="utf-8")
            out.append(EmailVariant(f"{sample.id}:{v['key']}", html, build.out_dir, base))
    return out


@pytest.fixture(scope="session")
def email_variants(builds) -> list[EmailVariant]:
    """Every variant of both sample workspaces' editions (root issues/ and examples/namc)."""
    return variants_of(builds, SAMPLES)


# What the Gmail app and Chromium's own auto-darkening do to a page that asks for nothing:
# invert light backgrounds and dark text by their lightness, after the page's own CSS.
FORCED_DARK_FLAGS = ["--force-dark-mode", "--blink-settings=forceDarkModeEnabled=true"]


@pytest.fixture(scope="session")
def forced_dark_browser(browser):
    """A second headless Chromium with forced dark mode switched on for every page, launched
    by the same Playwright as ``browser`` (one sync Playwright per process)."""
    b = browser.browser_type.launch(executable_path=chromium_path(), headless=True,
                                    args=CHROMIUM_FLAGS + FORCED_DARK_FLAGS)
    yield b
    b.close()

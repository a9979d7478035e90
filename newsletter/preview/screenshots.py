"""PNG screenshots of every variant of an edition, for people who sign off without running
the tool. Drives the system's Chromium through Playwright; never downloads a browser.

No server and no port: the browser's requests are answered in-process from the same routes
the preview serves (Playwright's request interception), and every other request is refused,
so nothing leaves the machine and remote images stay blank, as in the preview.
"""
from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from newsletter.core.errors import ScreenshotError
from newsletter.preview.app import PreviewApp
from newsletter.preview.emailview import FRAME_CSP, for_frame
from newsletter.preview.site import VariantKey
from newsletter.render.variant import variant_key

log = logging.getLogger(__name__)
ORIGIN = "http://preview.localhost"
SHOT_PATH = "/__screenshot__"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Quiet, offline Chromium: no background downloads, updates or sync.
CHROMIUM_FLAGS = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
VIEWPORT_HEIGHT = 800


@dataclass(frozen=True)
class Shot:
    key: VariantKey
    width: int
    path: Path


def find_chromium() -> str:
    """The Chromium to drive: $NEWSLETTER_CHROMIUM, else the system's."""
    configured = os.environ.get("NEWSLETTER_CHROMIUM")
    if configured:
        if Path(configured).is_file() and os.access(configured, os.X_OK):
            return configured
        raise ScreenshotError(f"NEWSLETTER_CHROMIUM={configured} is not an executable file")
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise ScreenshotError(
        "Chromium was not found. Install your system's Chromium (Debian/Ubuntu: sudo apt install chromium) "
        "or set NEWSLETTER_CHROMIUM to its path. Screenshots never download a browser.")


def plan_shots(app: PreviewApp, edition: str, languages: list[str] | None, widths: list[int], out_dir: Path) -> list[Shot]:
    """Which PNGs to write: every variant (in the chosen languages) at every width."""
    loaded = app.site.edition(edition)
    if languages:
        unknown = [lang for lang in languages if lang not in loaded.edition.languages]
        if unknown:
            raise ScreenshotError(f"edition {edition} has no language {unknown[0]!r}; "
                                  f"its languages: {', '.join(loaded.edition.languages)}")
    shots = []
    for language, audiences in app.site.variants(edition):
        if languages and language not in languages:
            continue
        key = VariantKey(loaded.name, language, audiences)
        stem = f"{loaded.name}-{variant_key(language, audiences)}"
        shots += [Shot(key, w, out_dir / f"{stem}-{w}.png") for w in widths]
    return shots


def take(root: Path, edition: str, languages: list[str] | None, widths: list[int], out_dir: Path) -> list[Path]:
    """Write the screenshots; returns the files written."""
    app = PreviewApp(root)
    shots = plan_shots(app, edition, languages, widths, out_dir)
    documents = _documents(app, shots)  # a build error stops us here, with its file and line
    executable = find_chromium()
    try:
        from playwright.sync_api import Error as PlaywrightError, sync_playwright
    except ImportError:  # pragma: no cover - playwright is a dependency
        raise ScreenshotError("the Python package 'playwright' is not installed") from None
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=executable, headless=True, args=_flags())
            try:
                _shoot_all(browser, app, shots, documents)
            finally:
                browser.close()
    except PlaywrightError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ScreenshotError(f"Chromium ({executable}) failed: {first}") from None
    return [s.path for s in shots]


def _documents(app: PreviewApp, shots: list[Shot]) -> dict[VariantKey, str]:
    """Each variant's document as the preview frame shows it (merge fields at their defaults)."""
    return {s.key: for_frame(app.site.message(s.key, None).html, dark=False) for s in shots}


def _flags() -> list[str]:
    # Chromium refuses to start as root with its sandbox (containers, CI); only then drop it.
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    return CHROMIUM_FLAGS + (["--no-sandbox"] if root else [])


def _shoot_all(browser: Any, app: PreviewApp, shots: list[Shot], documents: dict[VariantKey, str]) -> None:
    # One page for all shots: a new browser context per shot costs a second on a slow machine.
    by_path = {f"{SHOT_PATH}/{i}": documents[shot.key] for i, shot in enumerate(shots)}
    context = browser.new_context(viewport={"width": shots[0].width if shots else 600, "height": VIEWPORT_HEIGHT},
                                  device_scale_factor=1, color_scheme="light", java_script_enabled=False)
    try:
        context.route("**/*", lambda route: _answer(route, app, by_path))
        page = context.new_page()
        for i, shot in enumerate(shots):
            page.set_viewport_size({"width": shot.width, "height": VIEWPORT_HEIGHT})
            page.goto(f"{ORIGIN}{SHOT_PATH}/{i}", wait_until="load")
            page.screenshot(path=str(shot.path), full_page=True)
            log.info("wrote %s", shot.path)
    finally:
        context.close()


def _answer(route: Any, app: PreviewApp, documents: dict[str, str]) -> None:
    """Serve the emails and the edition's images from the app; refuse everything else."""
    url = route.request.url
    if not url.startswith(ORIGIN + "/"):
        route.abort("blockedbyclient")
        return
    target = url[len(ORIGIN):]
    document = documents.get(urlsplit(target).path)
    if document is not None:
        route.fulfill(status=200, body=document.encode("utf-8"),
                      headers={"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": FRAME_CSP})
        return
    response = app.handle(target)
    route.fulfill(status=response.status, body=response.body, headers=response.all_headers())

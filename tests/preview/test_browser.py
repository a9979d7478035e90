"""The preview in headless Chromium (the system's, through Playwright): what an editor does
with it, live reload included, and that nothing in an email can run script."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterator

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from newsletter.preview import PreviewServer

from .helpers import raw_get

pytestmark = pytest.mark.browser

TITLE_EN = "Learning from each other, across borders"
TITLE_DE = "Voneinander lernen, über Grenzen hinweg"
RELOAD_WITHIN_MS = 2000
REMOTE = "https://mcin.example.org/assets/photo.jpg"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()


def edition_file(ws: Path) -> Path:
    return ws / "issues" / "2026-11" / "edition.yaml"


def save_atomically(path: Path, text: str) -> None:
    """How many editors save: write a temporary file, then rename it over the original."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def frame_width(page: Page) -> int:
    return page.locator("#email").evaluate("frame => frame.contentWindow.innerWidth")


def test_preview_loads_switches_language_and_width_and_shows_text(preview: PreviewServer, page: Page) -> None:
    page.goto(preview.url + "e/2026-11/")
    email = page.frame_locator("#email")
    expect(email.locator("body")).to_contain_text(TITLE_EN)
    expect(page.locator("#subject")).to_contain_text("November news")
    assert frame_width(page) >= 600

    page.select_option("#lang", "de")
    expect(email.locator("body")).to_contain_text(TITLE_DE)
    expect(page.locator("#subject")).to_contain_text("Neues im November")
    assert "lang=de" in page.url

    for width in (375, 320):
        page.select_option("#width", str(width))
        page.wait_for_function(f"document.getElementById('email').contentWindow.innerWidth === {width}")
        assert f"width={width}" in page.url
    expect(email.locator("body")).to_contain_text(TITLE_DE)

    page.click("#view-text")
    source = page.locator("#source")
    expect(source).to_contain_text(TITLE_DE)
    expect(source).not_to_contain_text("<table")
    assert "view=text" in page.url and "lang=de" in page.url and "width=320" in page.url


def test_segment_shows_its_blocks_and_a_subscriber_fills_the_merge_fields(preview: PreviewServer, page: Page) -> None:
    page.goto(preview.url + "e/2026-11/")
    body = page.frame_locator("#email").locator("body")
    expect(body).to_contain_text("Dear friends,")
    expect(body).not_to_contain_text("annual reports due")
    page.select_option("#segment", "leaders")
    expect(body).to_contain_text("For programme leaders: annual reports due 15 December")
    page.select_option("#subscriber", "amelia.hartley@example.org")
    expect(body).to_contain_text("Dear Amelia,")
    expect(body).to_contain_text("annual report for Riverside Family Centre")


def test_no_request_leaves_the_machine(preview: PreviewServer, page: Page, sample_ws: Path) -> None:
    """An image given as a web address: the frame's policy stops it inside the browser,
    before any connection (a routed request is one that would go to the network)."""
    edition = edition_file(sample_ws)
    save_atomically(edition, edition.read_text(encoding="utf-8").replace("image: images/hero.png", f"image: {REMOTE}", 1))
    outside: list[str] = []
    blocked: list[tuple[str, str | None]] = []

    def route(route: Route) -> None:
        if route.request.url.startswith(preview.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.context.route("**/*", route)
    page.on("requestfailed", lambda request: blocked.append((request.url, request.failure)))
    for view in ("email", "text", "headers"):
        page.goto(preview.url + f"e/2026-11/?view={view}&dark=1")
        page.wait_for_load_state("networkidle")
    assert outside == []
    assert (REMOTE, "csp") in blocked


def luminance(css_colour: str) -> float:
    red, green, blue = (float(v) for v in re.findall(r"[\d.]+", css_colour)[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def test_dark_mode_applies_the_emails_own_dark_styles(preview: PreviewServer, page: Page) -> None:
    page.goto(preview.url + "e/2026-11/")
    body = page.frame_locator("#email").locator("body")
    expect(body).to_contain_text(TITLE_EN)
    light = body.evaluate("b => getComputedStyle(b).backgroundColor")
    page.check("#dark")
    page.wait_for_url("**dark=1**")
    expect(body).to_contain_text(TITLE_EN)
    dark = body.evaluate("b => getComputedStyle(b).backgroundColor")
    assert luminance(dark) < luminance(light) - 100, (light, dark)


def test_live_reload_shows_edits_errors_and_recovery(preview: PreviewServer, page: Page, sample_ws: Path) -> None:
    path = edition_file(sample_ws)
    original = path.read_text(encoding="utf-8")
    page.goto(preview.url + "e/2026-11/?lang=en")
    email = page.frame_locator("#email")
    expect(email.locator("body")).to_contain_text(TITLE_EN)

    path.write_text(original.replace(TITLE_EN, "Saved a moment ago"), encoding="utf-8")
    expect(email.locator("body")).to_contain_text("Saved a moment ago", timeout=RELOAD_WITHIN_MS)

    lines = original.splitlines()
    path.write_text("\n".join(lines) + "\nfooter: Thanks: see you\n", encoding="utf-8")
    error = page.locator("#build-error")
    expect(error).to_contain_text(f"issues/2026-11/edition.yaml:{len(lines) + 1}:15", timeout=RELOAD_WITHIN_MS)
    expect(error).to_contain_text("mapping values are not allowed in this context")

    save_atomically(path, original.replace(TITLE_EN, "Fixed and saved"))
    expect(email.locator("body")).to_contain_text("Fixed and saved", timeout=RELOAD_WITHIN_MS)
    expect(page.locator("#build-error")).to_have_count(0)


def test_a_broken_template_names_its_file_and_the_page_recovers(preview: PreviewServer, page: Page,
                                                                sample_ws: Path) -> None:
    template = sample_ws / "templates" / "blocks" / "divider.mjml.j2"
    original = template.read_text(encoding="utf-8")
    page.goto(preview.url + "e/2026-11/")
    expect(page.frame_locator("#email").locator("body")).to_contain_text(TITLE_EN)
    template.write_text(original + "{% if %}\n", encoding="utf-8")
    expect(page.locator("#build-error")).to_contain_text("divider.mjml.j2", timeout=RELOAD_WITHIN_MS)
    template.write_text(original, encoding="utf-8")
    expect(page.frame_locator("#email").locator("body")).to_contain_text(TITLE_EN, timeout=RELOAD_WITHIN_MS)


def mark(name: str) -> str:
    """Script that, if it ran, leaves two traces: an attribute on the email's root element
    (which no Content-Security-Policy can stop) and a request the browser would report."""
    return f"document.documentElement.setAttribute('data-pwned-{name}', 1);fetch('/pwned/{name}')"


PAYLOADS = {
    "script": f"<script>{mark('script')}</script>",
    "onerror": f"<img src=\"x\" onerror=\"{mark('onerror')}\">",
    "svg": f"<svg onload=\"{mark('svg')}\"></svg>",
    "link": f"[click](javascript:{mark('link')})",
}


def traces(page: Page, requests: list[str]) -> list[str]:
    names = page.frame_locator("#email").locator("html").evaluate(
        "root => root.getAttributeNames().filter(n => n.startsWith('data-pwned-'))")
    return sorted(names + [url.split("/pwned/", 1)[1] for url in requests if "/pwned/" in url])


def test_script_and_onerror_in_markdown_do_not_run(preview: PreviewServer, page: Page, sample_ws: Path) -> None:
    article = sample_ws / "issues" / "2026-11" / "articles" / "peer-learning.md"
    article.write_text(article.read_text(encoding="utf-8") + "\n" + "\n\n".join(PAYLOADS.values()) + "\n",
                       encoding="utf-8")
    path = edition_file(sample_ws)
    title = f"<img src=x onerror=\\\"{mark('title')}\\\">Title"
    path.write_text(path.read_text(encoding="utf-8").replace(f"en: {TITLE_EN}", f'en: "{title}"'), encoding="utf-8")
    requests: list[str] = []
    page.context.on("request", lambda request: requests.append(request.url))

    page.goto(preview.url + "e/2026-11/")
    body = page.frame_locator("#email").locator("body")
    # Shown as the text the editor typed, not as markup.
    expect(body).to_contain_text(PAYLOADS["script"])
    expect(body).to_contain_text(PAYLOADS["onerror"])
    expect(body).to_contain_text(f"<img src=x onerror=\"{mark('title')}\">Title")
    page.wait_for_load_state("networkidle")

    # The observer works: script that does run (the page's own, here) leaves both traces.
    page.evaluate(f"(() => {{ const document = window.document.getElementById('email').contentDocument; "
                  f"{mark('control')} }})()")
    page.wait_for_load_state("networkidle")
    assert traces(page, requests) == ["control", "data-pwned-control"]
    assert not [url for url in requests if url.endswith("/e/2026-11/x")]  # no <img> was made either


def test_script_in_the_email_document_cannot_run_either(preview: PreviewServer, page: Page, sample_ws: Path) -> None:
    """Defence in depth: even raw script that reaches the HTML (here through a workspace
    template, which may hold any markup) is stopped by the frame's sandbox and CSP."""
    template = sample_ws / "templates" / "blocks" / "divider.mjml.j2"
    template.write_text(
        f"<mj-raw><script>{mark('template-script')}; parent.document.title = 'pwned'</script>"
        f"<img src=\"x\" onerror=\"{mark('template-onerror')}\"></mj-raw>\n", encoding="utf-8")
    document = raw_get(preview, "/e/2026-11/email?lang=en").text
    assert f"<script>{mark('template-script')}" in document  # it is really there
    requests: list[str] = []
    page.context.on("request", lambda request: requests.append(request.url))
    page.goto(preview.url + "e/2026-11/")
    expect(page.frame_locator("#email").locator("body")).to_contain_text(TITLE_EN)
    page.wait_for_load_state("networkidle")
    assert traces(page, requests) == []
    assert page.title() != "pwned"
    assert page.locator("#email").get_attribute("sandbox").split() == [
        "allow-same-origin", "allow-popups", "allow-popups-to-escape-sandbox"]

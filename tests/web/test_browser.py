"""The readers' pages in a real headless Chromium, as a reader uses them, keyboard only: sign up,
confirm, change preferences, unsubscribe; in two languages, on a phone-sized screen, without
console errors (a CSP violation would be one) and without JavaScript on our side."""
from __future__ import annotations

import pytest

from newsletter.core import tokens
from tests.conftest import ROOT, require_tool
from newsletter.subscribers.store import Store
from tests.web.conftest import KEY, Served

pytestmark = pytest.mark.browser

HEADINGS = {
    "en": {"signup": "Sign up for our newsletter", "sent": "Please check your inbox", "confirm": "Confirm your sign-up",
           "confirmed": "Thank you!", "prefs": "Your preferences", "saved": "Your preferences are saved",
           "unsub": "Unsubscribe", "gone": "You are unsubscribed"},
    "de": {"signup": "Unseren Newsletter bestellen", "sent": "Bitte sehen Sie in Ihr Postfach",
           "confirm": "Anmeldung bestätigen", "confirmed": "Vielen Dank!", "prefs": "Ihre Einstellungen",
           "saved": "Ihre Einstellungen sind gespeichert", "unsub": "Abmelden", "gone": "Sie sind abgemeldet"},
}


def tab_to(page, selector: str, limit: int = 40) -> None:
    """Press Tab until ``selector`` has the focus: proves it is reachable by keyboard."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} cannot be reached with the Tab key")


def submit(page) -> None:
    """Enter on the focused button, and wait for the page the form leads to."""
    with page.expect_navigation():
        page.keyboard.press("Enter")


def heading(page) -> str:
    return page.inner_text("h1")


@pytest.mark.parametrize("lang", ["en", "de"])
def test_reader_journey_keyboard_only(browser, served: Served, lang: str) -> None:
    words = HEADINGS[lang]
    context = browser.new_context(locale={"en": "en-GB", "de": "de-DE"}[lang], viewport={"width": 375, "height": 740},
                                  java_script_enabled=False)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    try:
        page.goto(f"{served.url}/newsletter/signup")
        assert heading(page) == words["signup"]
        assert page.evaluate("document.documentElement.scrollWidth") <= 375    # fits a phone
        tab_to(page, "#nl-email")
        page.keyboard.type(f"reader-{lang}@example.org")
        tab_to(page, "input[name=topic][value=topic-policy]")
        page.keyboard.press("Space")
        tab_to(page, "input[name=consent]")
        page.keyboard.press("Space")
        tab_to(page, "form.newsletter-signup button[type=submit]")
        submit(page)
        assert heading(page) == words["sent"]

        language, to, _name, url = served.mailbox.wait(1)[-1]
        assert (language, to) == (lang, f"reader-{lang}@example.org")
        page.goto(served.local(url))
        assert heading(page) == words["confirm"]
        tab_to(page, "main button[type=submit]")
        submit(page)
        assert heading(page) == words["confirmed"]
        with Store.open(served.ws) as store:
            person = store.require(to)
        assert person.status == "subscribed" and person.tags == ["topic-events", "topic-policy"]

        list_id = served.ws.settings.list_id
        prefs = tokens.make_token(KEY.encode(), person.stored_id, list_id, tokens.PREFERENCES)
        page.goto(f"{served.url}/newsletter/preferences?token={prefs}")
        assert heading(page) == words["prefs"]
        tab_to(page, "input[name=topic][value=topic-events]")
        page.keyboard.press("Space")                                            # untick
        tab_to(page, "form button[type=submit]")
        submit(page)
        assert words["saved"] in page.inner_text("main")
        with Store.open(served.ws) as store:
            assert store.require(to).tags == ["topic-policy"]

        unsub = tokens.make_token(KEY.encode(), person.stored_id, list_id, claim="3")
        page.goto(f"{served.url}/newsletter/unsubscribe?token={unsub}")
        assert heading(page) == words["unsub"]
        tab_to(page, "main form button[type=submit]")
        submit(page)
        assert heading(page) == words["gone"]
        with Store.open(served.ws) as store:
            assert store.require(to).status == "unsubscribed"
    finally:
        context.close()
    assert problems == []


AXE = ROOT / "tools" / "node_modules" / "axe-core" / "axe.min.js"


def test_pages_have_no_serious_accessibility_violations(browser, served: Served) -> None:
    """axe-core (the tools/ install) on every kind of page; the scanner is injected with the
    CSP bypassed, since the pages themselves allow no script at all."""
    require_tool(AXE.exists(), "axe-core (npm, tools/)")
    list_id = served.ws.settings.list_id
    sid = served.ids["bert@example.org"]
    pages = {
        "signup": "/newsletter/signup",
        "unsubscribe": f"/newsletter/unsubscribe?token={tokens.make_token(KEY.encode(), sid, list_id)}",
        "preferences": f"/newsletter/preferences?token={tokens.make_token(KEY.encode(), sid, list_id, tokens.PREFERENCES)}",
        "invalid": "/newsletter/unsubscribe?token=nothing",
    }
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    found = {}
    try:
        for name, path in pages.items():
            page.goto(served.url + path)
            page.add_script_tag(path=str(AXE))
            result = page.evaluate("async () => (await axe.run(document)).violations"
                                   ".filter(v => ['serious', 'critical'].includes(v.impact)).map(v => v.id)")
            if result:
                found[name] = result
    finally:
        context.close()
    assert found == {}

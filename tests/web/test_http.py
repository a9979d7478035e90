"""`newsletter serve` over real HTTP (uvicorn on 127.0.0.1, httpx): one-click unsubscribe
whatever the body, GETs that change nothing, every kind of bad token refused with a page,
preferences, sign-up with double opt-in, and the safety rules."""
from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from click.testing import CliRunner

from newsletter.cli import main
from newsletter.core import tokens
from newsletter.web.app import build_app
from newsletter.web.security import ClientAddress, stored_ip
from newsletter.web.server import Running
from tests.web.conftest import KEY, Mailbox, Served, add_people

UNSUB = "/newsletter/unsubscribe"
PREFS = "/newsletter/preferences"
SIGNUP = "/newsletter/signup"


def token_for(served: Served, email: str, purpose: str = tokens.UNSUBSCRIBE, **kw) -> str:
    return tokens.make_token(KEY.encode(), served.ids[email], served.ws.settings.list_id, purpose, **kw)


def history(served: Served, email: str) -> list[dict]:
    with served.store() as store:
        return store.events(store.require(email).stored_id)


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert found, page.text
    return found.group(1)


# -- one-click (RFC 8058) ----------------------------------------------------------------------

@pytest.mark.parametrize("body", ["urlencoded", "multipart", "empty"])
def test_one_click_post_unsubscribes_whatever_the_body(served: Served, body: str) -> None:
    url = f"{UNSUB}?token={token_for(served, 'ana@example.org', claim='12')}"
    with served.client() as http:
        if body == "urlencoded":
            answer = http.post(url, data={"List-Unsubscribe": "One-Click"})
        elif body == "multipart":
            answer = http.post(url, files={"List-Unsubscribe": (None, "One-Click")})
            assert answer.request.headers["content-type"].startswith("multipart/form-data")
        else:
            answer = http.post(url, content=b"")
        again = http.post(url, content=b"")
    assert answer.status_code == 200 and again.status_code == 200
    for response in (answer, again):
        assert "location" not in response.headers and "set-cookie" not in response.headers
    assert "Se ha dado de baja" in answer.text        # her own language
    assert served.status("ana@example.org") == "unsubscribed"
    unsubscribes = [e for e in history(served, "ana@example.org") if e["kind"] == "unsubscribe"]
    assert len(unsubscribes) == 1                      # idempotent: one event
    assert unsubscribes[0]["campaign"] == "12" and unsubscribes[0]["source"] == "web: List-Unsubscribe"
    assert served.status("bert@example.org") == "subscribed"


def test_gets_change_nothing(served: Served) -> None:
    before = {e: (served.status(e), len(history(served, e))) for e in served.ids}
    with served.client() as http:
        for email in served.ids:
            for path, purpose in ((UNSUB, tokens.UNSUBSCRIBE), (PREFS, tokens.PREFERENCES)):
                page = http.get(f"{path}?token={token_for(served, email, purpose)}")
                assert page.status_code == 200
                http.head(f"{path}?token={token_for(served, email, purpose)}")
        assert http.get(SIGNUP).status_code == 200
    assert {e: (served.status(e), len(history(served, e))) for e in served.ids} == before


def test_unsubscribe_page_shows_what_they_receive_and_links_preferences(served: Served) -> None:
    with served.client() as http:
        page = http.get(f"{UNSUB}?token={token_for(served, 'cleo@example.org')}")
    assert "cleo@example.org" in page.text and "Family policy news" in page.text
    link = re.search(r'href="(/newsletter/preferences\?token=[^"]+)"', page.text).group(1)
    with served.client() as http:
        assert "Your preferences" in http.get(link).text


def _bad_tokens(served: Served) -> dict[str, str]:
    good = token_for(served, "ana@example.org")
    sid, mac = good.split(".")
    list_id = served.ws.settings.list_id
    other_sid = token_for(served, "bert@example.org").split(".")[0]
    return {
        "forged": tokens.make_token(b"not the key" * 3, served.ids["ana@example.org"], list_id),
        "altered-id": f"{other_sid}.{mac}",
        "altered-mac": f"{sid}.{mac[:-2]}{'AA' if mac[-2:] != 'AA' else 'BB'}",
        "other-purpose": token_for(served, "ana@example.org", tokens.PREFERENCES),
        "other-list": tokens.make_token(KEY.encode(), served.ids["ana@example.org"], "other.example.org"),
        "confirm-purpose": tokens.make_confirm_token(KEY.encode(), served.ids["ana@example.org"], list_id, 10**9),
        "garbage": "not-a-token",
        "empty": "",
        "unknown-subscriber": tokens.make_token(KEY.encode(), 99999, list_id),
    }


def test_bad_tokens_are_refused_with_a_page_and_change_nothing(served: Served) -> None:
    before = [(e, served.status(e), len(history(served, e))) for e in served.ids]
    with served.client() as http:
        for name, bad in _bad_tokens(served).items():
            for method in ("GET", "POST"):
                answer = http.request(method, f"{UNSUB}?token={bad}", content=b"List-Unsubscribe=One-Click")
                assert answer.status_code == 400, name
                assert "This link does not work" in answer.text, name
                assert answer.headers["content-type"].startswith("text/html")
            if name != "other-purpose":  # that one is a preferences token
                prefs = http.post(f"{PREFS}?token={bad}", data={"action": "unsubscribe"})
                assert prefs.status_code == 400, name
    assert [(e, served.status(e), len(history(served, e))) for e in served.ids] == before


def test_expired_confirm_token_is_refused(web_ws) -> None:
    clock = [datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)]
    mailbox = Mailbox()
    add_people(web_ws)
    with Running(build_app(web_ws, mailer=mailbox, clock=lambda: clock[0])) as url, \
            httpx.Client(base_url=url) as http:
        form = http.get(SIGNUP)
        http.post(SIGNUP, data={"email": "new@example.org", "language": "en", "consent": "1", "csrf": csrf_of(form)})
        confirm_url = mailbox.wait(1)[0][3].replace("https://mcin.example.org", url)
        assert http.get(confirm_url).status_code == 200
        clock[0] += timedelta(hours=49)
        late = http.get(confirm_url)
        assert late.status_code == 400 and "does not work" in late.text
        assert http.post(confirm_url, data={"csrf": csrf_of(form)}).status_code == 400
    from newsletter.subscribers.store import Store
    with Store.open(web_ws) as store:
        assert store.get("new@example.org") is None


def test_old_key_still_verifies_after_rotation(sample_ws, monkeypatch) -> None:
    from newsletter.core.config import load_workspace
    old = "o" * 32
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", "n" * 32)
    monkeypatch.setenv("NEWSLETTER_OLD_SECRET_KEYS", old)
    ws = load_workspace(sample_ws)
    ids = add_people(ws)
    issued_before = tokens.make_token(old.encode(), ids["bert@example.org"], ws.settings.list_id)
    with Running(build_app(ws, mailer=Mailbox())) as url, httpx.Client(base_url=url) as http:
        assert http.post(f"{UNSUB}?token={issued_before}").status_code == 200
    from newsletter.subscribers.store import Store
    with Store.open(ws) as store:
        assert store.require("bert@example.org").status == "unsubscribed"


# -- preferences -------------------------------------------------------------------------------

def test_preferences_change_language_and_topics_with_csrf(served: Served) -> None:
    url = f"{PREFS}?token={token_for(served, 'bert@example.org', tokens.PREFERENCES)}"
    with served.client() as http:
        page = http.get(url)
        assert "Ihre Einstellungen" in page.text  # Bert reads German
        forged = http.post(url, data={"action": "save", "language": "en", "topic": "topic-policy", "csrf": "0" * 64})
        assert forged.status_code == 403
        saved = http.post(url, data={"action": "save", "language": "es", "topic": ["topic-policy", "leader"],
                                     "csrf": csrf_of(page)})
    assert saved.status_code == 200 and "Sus preferencias están guardadas" in saved.text
    with served.store() as store:
        bert = store.require("bert@example.org")
        # Only offered topics can be chosen: "leader" is the editor's tag, not a topic.
        assert (bert.language, bert.tags) == ("es", ["topic-policy"])
        assert sorted(store.require("cleo@example.org").tags) == ["leader", "topic-events", "topic-policy"]
        assert bert.stored_id in store.segment_ids("spanish")


def test_preferences_keep_tags_that_are_not_topics_and_unsubscribe_from_everything(served: Served) -> None:
    url = f"{PREFS}?token={token_for(served, 'cleo@example.org', tokens.PREFERENCES)}"
    with served.client() as http:
        page = http.get(url)
        http.post(url, data={"action": "save", "language": "en", "csrf": csrf_of(page)})
        with served.store() as store:
            assert store.require("cleo@example.org").tags == ["leader"]
        gone = http.post(url, data={"action": "unsubscribe", "csrf": csrf_of(page)})
    assert gone.status_code == 200 and "You are unsubscribed" in gone.text
    assert served.status("cleo@example.org") == "unsubscribed"


def test_preferences_post_without_csrf_changes_nothing(served: Served) -> None:
    url = f"{PREFS}?token={token_for(served, 'ana@example.org', tokens.PREFERENCES)}"
    with served.client() as http:
        answer = http.post(url, data={"action": "unsubscribe"})
    assert answer.status_code == 403
    assert served.status("ana@example.org") == "subscribed"


# -- sign-up with double opt-in ----------------------------------------------------------------

def sign_up(http: httpx.Client, email: str, **fields) -> httpx.Response:
    form = http.get(SIGNUP, headers={"accept-language": fields.pop("accept", "en")})
    data = {"email": email, "name": "New Reader", "language": "en", "consent": "1", "csrf": csrf_of(form), **fields}
    return http.post(SIGNUP, data=data)


def test_double_opt_in_records_consent_and_subscribes_only_after_post(served: Served) -> None:
    with served.client() as http:
        sent = sign_up(http, "New@Example.org", language="de", topic="topic-policy")
        assert sent.status_code == 200 and "Bitte sehen Sie in Ihr Postfach" in sent.text
        with served.store() as store:
            assert store.get("new@example.org") is None          # nothing before confirmation
        language, to, name, url = served.mailbox.wait(1)[-1]
        assert (language, to, name) == ("de", "New@example.org", "New Reader")
        confirm = served.local(url)
        shown = http.get(confirm)
        assert "Anmeldung bestätigen" in shown.text
        with served.store() as store:
            assert store.get("new@example.org") is None          # GET changed nothing
        assert http.post(confirm, data={"csrf": "f" * 64}).status_code == 403
        done = http.post(confirm, data={"csrf": csrf_of(shown)})
        assert done.status_code == 200 and "Vielen Dank" in done.text
        assert http.post(confirm, data={"csrf": csrf_of(shown)}).status_code == 200  # twice: no harm
    with served.store() as store:
        sub = store.require("new@example.org")
        assert (sub.status, sub.language, sub.tags) == ("subscribed", "de", ["topic-policy"])
        assert sub.consent["method"] == "double-opt-in" and sub.consent["ip"] == "127.0.0.0"
        consents = [e for e in store.events(sub.stored_id) if e["kind"] == "consent"]
    assert len(consents) == 1
    assert consents[0]["text_version"] == "1" and consents[0]["text_language"] == "de"
    assert consents[0]["source"] == "web: sign-up form" and consents[0]["confirm_ip"] == "127.0.0.0"
    shown = CliRunner().invoke(main, ["-C", str(served.ws.root), "subscribers", "show", "new@example.org"])
    assert shown.exit_code == 0, shown.output
    assert "consent" in shown.output and "text_version: 1" in shown.output and "double-opt-in" in shown.output


def test_sign_up_reveals_nothing_about_the_list(served: Served) -> None:
    with served.client() as http:
        pages = {email: sign_up(http, email) for email in ("cleo@example.org", "nobody@example.org")}
    texts = {e: p.text.replace(e, "ADDRESS") for e, p in pages.items()}
    assert pages["cleo@example.org"].status_code == pages["nobody@example.org"].status_code == 200
    assert texts["cleo@example.org"] == texts["nobody@example.org"]


def test_unsubscribed_person_comes_back_only_through_confirmation(served: Served) -> None:
    with served.client() as http:
        http.post(f"{UNSUB}?token={token_for(served, 'bert@example.org')}")
        sign_up(http, "bert@example.org", language="de")
        assert served.status("bert@example.org") == "unsubscribed"
        shown = http.get(served.local(served.mailbox.wait(1)[-1][3]))
        http.post(served.local(served.mailbox.sent[-1][3]), data={"csrf": csrf_of(shown)})
    assert served.status("bert@example.org") == "subscribed"
    assert [e["kind"] for e in history(served, "bert@example.org")][-2:] == ["resubscribe", "consent"]


def test_sign_up_form_checks(served: Served) -> None:
    with served.client() as http:
        no_consent = sign_up(http, "x@example.org", consent="")
        bad_email = sign_up(http, "not an address")
        bad_lang = sign_up(http, "y@example.org", language="xx")
        honeypot = sign_up(http, "bot@example.org", website="http://spam.example")
        escaped = sign_up(http, "<script>alert(1)</script>@example.org", name="<b>x</b>")
    assert no_consent.status_code == 400 and "Please tick the box" in no_consent.text
    assert bad_email.status_code == 400 and "valid e-mail address" in bad_email.text
    assert bad_lang.status_code == 400
    assert honeypot.status_code == 200 and "check your inbox" in honeypot.text
    assert "<script>" not in escaped.text and "&lt;script&gt;" in escaped.text
    assert served.mailbox.sent == []


def test_embedded_form_without_csrf_asks_once_more(served: Served) -> None:
    with served.client() as http:
        answer = http.post(SIGNUP, data={"email": "embed@example.org", "language": "es", "consent": "1"})
    assert answer.status_code == 200 and 'value="embed@example.org"' in answer.text
    assert "El formulario era demasiado antiguo" in answer.text and served.mailbox.sent == []


def test_sign_up_is_rate_limited_per_address(served: Served) -> None:
    limit = served.ws.settings.web.signups_per_ip_per_hour
    with served.client() as http:
        codes = [sign_up(http, f"r{i}@example.org").status_code for i in range(limit + 2)]
    assert codes == [200] * limit + [429, 429]
    assert len(served.mailbox.wait(limit)) == limit


def test_accept_language_chooses_the_sign_up_language(served: Served) -> None:
    with served.client() as http:
        assert 'lang="es"' in http.get(SIGNUP, headers={"accept-language": "fr-FR, es;q=0.8, de;q=0.5"}).text
        assert 'lang="en"' in http.get(SIGNUP, headers={"accept-language": "fr, it;q=0.5"}).text
        assert 'lang="de"' in http.get(SIGNUP + "?lang=de").text


# -- safety ------------------------------------------------------------------------------------

def test_security_headers_size_limit_and_no_redirects(served: Served) -> None:
    with served.client() as http:
        page = http.get(SIGNUP + "?next=https://evil.example/")
        big = http.post(SIGNUP, content=b"x" * 20_000, headers={"content-type": "application/x-www-form-urlencoded"})
        chunked = http.post(SIGNUP, content=iter([b"email=" + b"x" * 10_000, b"y" * 10_000]))
        missing = http.get("/newsletter/nothing-here")
        health = http.get("/healthz")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "script-src" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer" and page.headers["x-frame-options"] == "DENY"
    assert "evil.example" not in page.text and "location" not in page.headers
    assert big.status_code == 413 and chunked.status_code == 413
    assert missing.status_code == 404 and missing.headers["content-security-policy"] == csp
    assert health.json() == {"status": "ok"}


def test_tokens_never_appear_in_logs(served: Served, caplog: pytest.LogCaptureFixture) -> None:
    token = token_for(served, "ana@example.org")
    with caplog.at_level(logging.DEBUG):
        with served.client() as http:
            http.get(f"{UNSUB}?token={token}")
            http.post(f"{UNSUB}?token={token}")
            http.get(f"{UNSUB}?token={token}x")
    ours = [r for r in caplog.records if r.name.startswith(("newsletter", "uvicorn", "starlette"))]
    assert any("/newsletter/unsubscribe" in r.getMessage() for r in ours)
    assert not any(token[:20] in r.getMessage() for r in ours)


def test_client_address_believes_forwarded_for_only_from_trusted_proxies() -> None:
    clients = ClientAddress(["10.0.0.0/8", "::1"])
    assert clients.of("203.0.113.9", "198.51.100.1") == "203.0.113.9"         # not a proxy: ignored
    assert clients.of("10.0.0.2", "198.51.100.1") == "198.51.100.1"
    assert clients.of("10.0.0.2", "6.6.6.6, 198.51.100.1, 10.0.0.3") == "198.51.100.1"  # spoofed left part
    assert clients.of("10.0.0.2", "garbage") == "10.0.0.2"
    assert ClientAddress([]).of("10.0.0.2", "198.51.100.1") == "10.0.0.2"
    assert stored_ip("198.51.100.77", "truncated") == "198.51.100.0"
    assert stored_ip("2001:db8:1234:5678::1", "truncated") == "2001:db8:1234::"
    assert stored_ip("198.51.100.77", "none") is None and stored_ip("198.51.100.77", "full") == "198.51.100.77"


def test_signup_behind_a_trusted_proxy_records_the_truncated_client_address(sample_ws, monkeypatch) -> None:
    from newsletter.core.config import load_workspace
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", KEY)
    monkeypatch.setenv("NEWSLETTER_WEB__TRUSTED_PROXIES", '["127.0.0.1"]')
    ws = load_workspace(sample_ws)
    mailbox = Mailbox()
    with Running(build_app(ws, mailer=mailbox)) as url, httpx.Client(base_url=url) as http:
        headers = {"x-forwarded-for": "198.51.100.77"}
        form = http.get(SIGNUP, headers=headers)
        http.post(SIGNUP, headers=headers, data={"email": "p@example.org", "language": "en", "consent": "1",
                                                 "csrf": csrf_of(form)})
    from newsletter.subscribers.signups import Signups
    from newsletter.subscribers.store import Store
    with Store.open(ws) as store:
        pending = Signups(store).get(1)
    assert pending.consent["ip"] == "198.51.100.0"

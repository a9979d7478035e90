"""The readers' side end to end, with real servers: a campaign sent by the real CLI to a local
aiosmtpd server, the List-Unsubscribe URL of a received message POSTed to `serve`; a double
opt-in whose confirmation message travels through aiosmtpd; and 200 one-click unsubscribes
racing a running send on the same database."""
from __future__ import annotations

import asyncio
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from newsletter.campaign.journal import Journal
from newsletter.core import tokens
from newsletter.core.config import load_workspace
from newsletter.subscribers.store import Store
from newsletter.web.app import build_app
from newsletter.web.server import Running
from tests.campaign.test_send_cli import cli, make_workspace
from tests.web.conftest import KEY
from tests.web.test_http import csrf_of


def local(url: str, served: str) -> str:
    return served + "/" + url.split("://", 1)[1].split("/", 1)[1]


def wait_for(handler, count: int, timeout: float = 20) -> list:
    deadline = time.monotonic() + timeout
    while len(handler.messages) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return handler.messages


def test_list_unsubscribe_from_a_received_message_and_the_next_campaign_skips(
        sample_ws: Path, smtp_server, monkeypatch: pytest.MonkeyPatch) -> None:
    emails = make_workspace(sample_ws, 6)
    first = cli(sample_ws, smtp_server.port, "-s", "all", "--adapter", "smtp", "--yes")
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    received = next(m.message for m in smtp_server.handler.messages if m.rcpt_tos == [emails[1]])
    header = str(received["List-Unsubscribe"])
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = re.match(r"<(https://[^>]+)>", header).group(1)
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", KEY)
    ws = load_workspace(sample_ws)
    with Running(build_app(ws)) as served, httpx.Client() as http:
        answer = http.post(local(url, served), content=b"List-Unsubscribe=One-Click",
                           headers={"content-type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 200
    journal = Journal(ws.db_path)
    campaign = journal.campaigns()[-1].id
    journal.close()
    with Store.open(ws) as store:
        person = store.require(emails[1])
        event = [e for e in store.events(person.stored_id) if e["kind"] == "unsubscribe"][0]
    assert person.status == "unsubscribed" and event["campaign"] == str(campaign)
    # The next campaign (another edition) goes to everyone else, not to them.
    smtp_server.handler.messages.clear()
    third = _send(sample_ws, smtp_server.port, "2026-10")
    assert third.returncode == 0, third.stderr
    got = {r for m in smtp_server.handler.messages for r in m.rcpt_tos}
    assert emails[1] not in got and got == set(emails) - {emails[1]}


def _send(ws: Path, port: int, edition: str):
    import subprocess
    import sys
    from tests.campaign.test_send_cli import env_for
    return subprocess.run([sys.executable, "-m", "newsletter", "-C", str(ws), "send", edition, "-s", "all",
                           "--adapter", "smtp", "--yes", "--skip-publish-check"], env=env_for(port), capture_output=True, text=True,
                          timeout=120)


def test_double_opt_in_through_a_real_smtp_server(sample_ws: Path, smtp_server,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", KEY)
    monkeypatch.setenv("NEWSLETTER_SMTP_URL", f"smtp://127.0.0.1:{smtp_server.port}")
    monkeypatch.setenv("NEWSLETTER_DELIVERY__ADAPTER", "smtp")
    ws = load_workspace(sample_ws)
    with Running(build_app(ws)) as served, httpx.Client(base_url=served) as http:
        form = http.get("/newsletter/signup", headers={"accept-language": "de"})
        fields = {"email": "neu@example.org", "name": "Neue Leserin", "language": "de", "consent": "1",
                  "topic": "topic-events", "csrf": csrf_of(form)}
        first = http.post("/newsletter/signup", data=fields)
        [arrived] = wait_for(smtp_server.handler, 1)
        message = arrived.message
        assert arrived.rcpt_tos == ["neu@example.org"]
        assert str(message["Subject"]) == "Bitte bestätigen: Mother Centres International Network"
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert "Anmeldung bestätigen" in text and "Anmeldung bestätigen" in html and 'lang="de"' in html
        link = re.search(r"https://\S+/confirm\?token=[\w.-]+", text).group(0)
        assert link in html.replace("&amp;", "&")
        with Store.open(ws) as store:
            assert store.get("neu@example.org") is None
        page = http.get(local(link, served))
        done = http.post(local(link, served), data={"csrf": csrf_of(page)})
        assert done.status_code == 200
        with Store.open(ws) as store:
            person = store.require("neu@example.org")
            assert person.status == "subscribed" and person.tags == ["topic-events"]
            assert person.stored_id in store.segment_ids("german")
        # The same address again: the same page as for a stranger, word for word.
        again = http.post("/newsletter/signup", data={**fields, "csrf": csrf_of(http.get("/newsletter/signup"))})
        stranger = http.post("/newsletter/signup", data={**fields, "email": "fremd@example.org",
                                                         "csrf": csrf_of(http.get("/newsletter/signup"))})
    assert again.status_code == first.status_code == stranger.status_code == 200
    assert again.text == first.text == stranger.text.replace("fremd@example.org", "neu@example.org")


def test_two_hundred_one_click_unsubscribes_while_a_send_runs(sample_ws: Path, smtp_server,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    emails = make_workspace(sample_ws, 400)
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", KEY)
    ws = load_workspace(sample_ws)
    with Store.open(ws) as store:
        ids = {e: store.require(e).stored_id for e in emails}
    leaving = emails[::2]
    urls = [f"/newsletter/unsubscribe?token={tokens.make_token(KEY.encode(), ids[e], ws.settings.list_id, claim='1')}"
            for e in leaving]
    with Running(build_app(ws)) as served:
        send = cli(sample_ws, smtp_server.port, "-s", "all", "--adapter", "smtp", "--yes", "--rate", "300")
        wait_for(smtp_server.handler, 10)

        async def burst() -> list[int]:
            limits = httpx.Limits(max_connections=200)
            async with httpx.AsyncClient(base_url=served, timeout=60, limits=limits) as http:
                answers = await asyncio.gather(*(http.post(u, data={"List-Unsubscribe": "One-Click"}) for u in urls))
            return [a.status_code for a in answers]

        # In a thread of its own: Playwright's sync API (other tests) keeps an event loop in this one.
        with ThreadPoolExecutor(1) as pool:
            codes = pool.submit(asyncio.run, burst()).result()
        out, err = send.communicate(timeout=180)
    assert codes == [200] * len(leaving)
    assert send.returncode == 0, err
    assert "locked" not in err and "locked" not in out
    with Store.open(ws) as store:
        assert all(store.require(e).status == "unsubscribed" for e in leaving)
        assert all(store.require(e).status == "subscribed" for e in emails[1::2])
        events = [ev for e in leaving for ev in store.events(ids[e]) if ev["kind"] == "unsubscribe"]
    assert len(events) == len(leaving)

"""Fixtures for `newsletter serve`: a copy of the sample workspace with subscribers, the app
served by uvicorn on 127.0.0.1 on a free port (a real server, driven over HTTP), and a mailer
that keeps the confirmation messages it is asked to send."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from newsletter.core.config import Workspace, load_workspace
from newsletter.subscribers.models import Subscriber
from newsletter.subscribers.store import Store
from newsletter.web.app import build_app
from newsletter.web.server import Running

KEY = "k" * 32
PEOPLE = [("ana@example.org", "Ana", "es", ["topic-events"]), ("bert@example.org", "Bert", "de", []),
          ("cleo@example.org", "Cleo", "en", ["topic-events", "topic-policy", "leader"])]


@dataclass
class Mailbox:
    """What the app's mailer was asked to send: (language, to, name, confirm_url)."""

    sent: list[tuple[str, str, str, str]] = field(default_factory=list)

    def __call__(self, words, to, name, url, hours) -> None:
        self.sent.append((words.language, to, name, url))

    def wait(self, count: int, timeout: float = 10) -> list[tuple[str, str, str, str]]:
        """The messages once ``count`` have been asked for (the app sends after answering)."""
        deadline = time.monotonic() + timeout
        while len(self.sent) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.sent) >= count, self.sent
        return self.sent


@dataclass
class Served:
    url: str
    ws: Workspace
    mailbox: Mailbox
    ids: dict[str, int]

    def client(self, **kw) -> httpx.Client:
        return httpx.Client(base_url=self.url, follow_redirects=False, timeout=20, **kw)

    def store(self) -> Store:
        return Store.open(self.ws)

    def status(self, email: str) -> str:
        with self.store() as store:
            return store.require(email).status

    def local(self, public_url: str) -> str:
        """A public URL (https://mcin.example.org/newsletter/...) on the local server."""
        path = public_url.split("://", 1)[1].split("/", 1)[1]
        return f"{self.url}/{path}"


def add_people(ws: Workspace) -> dict[str, int]:
    ids = {}
    with Store.open(ws) as store:
        for email, name, lang, tags in PEOPLE:
            sub = store.add(Subscriber(None, email, name=name, language=lang, tags=tags,
                                       consent={"source": "test", "method": "editor-vouched", "time": store.now()}))
            ids[email] = sub.stored_id
    return ids


@pytest.fixture
def web_ws(sample_ws: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", KEY)
    monkeypatch.delenv("NEWSLETTER_OLD_SECRET_KEYS", raising=False)
    return load_workspace(sample_ws)


@pytest.fixture
def served(web_ws: Workspace) -> Iterator[Served]:
    ids = add_people(web_ws)
    mailbox = Mailbox()
    with Running(build_app(web_ws, mailer=mailbox)) as url:
        yield Served(url, web_ws, mailbox, ids)

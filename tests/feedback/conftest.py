"""A sample workspace with a bounce domain, an unsubscribe address and a few subscribers,
and real campaign messages composed for them (whose headers bounces quote back)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import main
from newsletter.compose.composer import Composer, Recipient
from newsletter.core import verp
from newsletter.core.config import Workspace, load_workspace
from newsletter.subscribers.store import Store
from tests.support.delivery import small_variant

BOUNCE_DOMAIN = "bounces.mcin.example.org"
SECRET = "feedback-tests-secret-key-0123456789"
PEOPLE = ["ann", "ben", "cem", "dana", "eva", "finn", "gone1", "gone2", "full1", "full2"]


@dataclass
class FeedbackWorkspace:
    root: Path

    @property
    def ws(self) -> Workspace:
        return load_workspace(self.root)

    def email(self, name: str) -> str:
        return f"{name}@example.org"

    def sid(self, name: str) -> int:
        with Store.open(self.ws) as store:
            return store.require(self.email(name)).stored_id

    def status(self, name: str) -> str:
        with Store.open(self.ws) as store:
            return store.require(self.email(name)).status

    def subscriber(self, name: str):
        with Store.open(self.ws) as store:
            return store.require(self.email(name))

    def return_path(self, name: str, campaign: int = 1) -> str:
        return verp.return_path(self.ws.secrets.secret_key, self.sid(name), campaign, BOUNCE_DOMAIN)

    def original(self, name: str, campaign: int = 1) -> bytes:
        """The campaign message this subscriber was sent (as a bounce quotes it back)."""
        ws = self.ws
        composer = Composer(small_variant(), ws.settings, ws.secrets.secret_key, campaign=str(campaign),
                            clock=lambda: datetime(2026, 11, 3, 9, 0, tzinfo=timezone.utc))
        sub = self.subscriber(name)
        return bytes(composer.compose(Recipient(sub.stored_id, sub.email, sub.name, sub.merge_data(), "en")))


def configure(root: Path, mailbox: str = "") -> None:
    """Add the bounce domain (and a feedback mailbox section) to the workspace's settings."""
    settings = root / "newsletter.yaml"
    text = settings.read_text(encoding="utf-8").replace(
        "  connections: 2\n", f"  connections: 2\n  bounce_domain: {BOUNCE_DOMAIN}\n")
    settings.write_text(text + mailbox, encoding="utf-8")


@pytest.fixture
def fb(sample_ws: Path, monkeypatch: pytest.MonkeyPatch) -> FeedbackWorkspace:
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", SECRET)
    configure(sample_ws)
    rows = ["email,first_name,language,country,tags"]
    rows += [f"{name}@example.org,{name.title()},en,DE,member" for name in PEOPLE]
    (sample_ws / "people.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["-C", str(sample_ws), "subscribers", "import", str(sample_ws / "people.csv")])
    assert result.exit_code == 0, result.output
    return FeedbackWorkspace(sample_ws)

"""A reader's changes apply to a campaign that is already running: an unsubscribe or a topic
(tag) unticked takes them out before their message; a language whose variant the campaign had
not rendered is rendered then, instead of pausing the campaign."""
from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.campaign import plan as campaign
from newsletter.campaign.runner import RunOptions
from newsletter.core.config import load_workspace
from newsletter.subscribers.store import Store
from tests.campaign.test_send_cli import make_workspace
from tests.web.conftest import KEY


@pytest.fixture
def members_ws(sample_ws: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", KEY)
    segments = sample_ws / "subscribers" / "segments.yaml"
    segments.write_text(segments.read_text().replace(
        "segments:\n", "segments:\n  members:\n    rule: {field: tags, contains: member}\n", 1))
    emails = make_workspace(sample_ws, 8)      # languages en, de, es in turn; every 4th a leader
    return load_workspace(sample_ws), emails


def recipients_of(ws) -> set[str]:
    found = set()
    for path in ws.outbox_dir.rglob("*.eml"):
        head = path.read_bytes().split(b"\r\n\r\n", 1)[0].decode()
        found.add(head.split("\r\nTo: ", 1)[1].split("\r\n", 1)[0].split("<")[-1].rstrip(">"))
    return found


def test_unsubscribe_and_topic_changes_during_a_send_apply_to_it(members_ws) -> None:
    ws, emails = members_ws
    changed: list[str] = []
    with Store.open(ws) as store:
        the_plan = campaign.plan(ws, store, "2026-11", "members")
        ids = {e: store.require(e).stored_id for e in emails}

        def meanwhile(_progress) -> None:
            if changed:
                return  # after the first message: one reader unticks, another leaves
            changed.append("done")
            with Store.open(ws) as other:
                other.set_preferences(ids[emails[6]], language=None, tags=[], managed_tags=["member"])
                other.unsubscribe(ids[emails[7]], "one-click", source="test")

        options = RunOptions.from_settings(ws.settings.delivery, connections=1)
        summary = campaign.send(ws, store, the_plan, "outbox", options=options, progress=meanwhile)
    assert changed and not summary.paused and summary.skipped == 2
    got = recipients_of(ws)
    members = {e for i, e in enumerate(emails) if i % 4 != 0}
    assert got == members - {emails[6], emails[7]}


def test_a_language_the_campaign_has_not_rendered_is_rendered_when_needed(members_ws) -> None:
    ws, emails = members_ws
    with Store.open(ws) as store:
        the_plan = campaign.plan(ws, store, "2026-11", "members")
        made = campaign.composers(ws, the_plan, "9")
        person = store.require(emails[1])                       # a German member
        store.set_preferences(person.stored_id, language="en", tags=[], managed_tags=[])
        del made["en"]                                          # as if no English member had been seen
        found = campaign._lookup(ws, store, the_plan, made, "9", [str(person.stored_id)])
    assert found[str(person.stored_id)].variant == "en" and "en" in made
    assert 'lang="en"' in made["en"].variant.html

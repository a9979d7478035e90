"""A hard bounce, a complaint and a mailto unsubscribe, each built from the very message the
campaign delivered, go through a real IMAP mailbox; the next campaign does not reach those
three people (and still reaches everyone else)."""
from __future__ import annotations

import re
import uuid
from urllib.parse import unquote

from click.testing import CliRunner

from newsletter.cli import main
from tests.feedback import corpus
from tests.feedback.conftest import PEOPLE, FeedbackWorkspace
from tests.feedback.test_mailbox import Imap, mailbox_settings
from tests.feedback.test_postfix import send
from tests.support.mailservers import IMAP_PASSWORD


def test_bounce_complaint_and_mailto_unsubscribe_stop_the_next_campaign(
        fb: FeedbackWorkspace, smtp_server, dovecot_server, monkeypatch) -> None:
    folder = f"e2e{uuid.uuid4().hex[:8]}"
    (fb.root / "newsletter.yaml").write_text((fb.root / "newsletter.yaml").read_text()
                                             + mailbox_settings(dovecot_server, folder, folder + "-done"))
    monkeypatch.setenv("NEWSLETTER_IMAP_PASSWORD", IMAP_PASSWORD)

    first = send(fb, smtp_server.port, "2026-11")
    assert first.returncode == 0, first.stdout + first.stderr
    delivered = {m.rcpt_tos[0]: m for m in smtp_server.handler.messages}
    assert set(delivered) == {fb.email(n) for n in PEOPLE}

    bounced, complained, leaving = delivered[fb.email("gone1")], delivered[fb.email("eva")], delivered[fb.email("finn")]
    mailto = re.search(r"<mailto:([^?>]+)\?subject=([^>]+)>", " ".join(leaving.message["List-Unsubscribe"].split()))
    assert mailto, leaving.message["List-Unsubscribe"]
    imap = Imap(dovecot_server)
    try:
        imap.append(folder, corpus.dsn(bounced.mail_from, fb.email("gone1"), original=bounced.data))
        imap.append(folder, corpus.arf("fbl@provider.example", original=complained.data, rcpt=fb.email("eva"),
                                       mail_from=complained.mail_from))
        imap.append(folder, corpus.mailto_unsubscribe(f"Finn <{fb.email('finn')}>", mailto[1], unquote(mailto[2])))
    finally:
        imap.close()
    fetched = CliRunner().invoke(main, ["-C", str(fb.root), "feedback", "fetch"])
    assert fetched.exit_code == 0, fetched.output
    assert [fb.status(n) for n in ("gone1", "eva", "finn")] == ["cleaned", "unsubscribed", "unsubscribed"]

    smtp_server.handler.messages.clear()
    second = send(fb, smtp_server.port, "2026-10")
    assert second.returncode == 0, second.stdout + second.stderr
    reached = {m.rcpt_tos[0] for m in smtp_server.handler.messages}
    assert reached == {fb.email(n) for n in PEOPLE if n not in ("gone1", "eva", "finn")}

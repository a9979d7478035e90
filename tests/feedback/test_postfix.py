"""The whole loop with real servers: `newsletter send` hands a campaign to Debian's Postfix
(VERP return paths), Postfix relays it to an aiosmtpd server that answers 550 5.1.1 to some
addresses and 452 to others, Postfix writes its real DSNs (failure, delay warning, then
failure on expiry) back to the VERP addresses, they land in a Maildir that Dovecot serves over
IMAPS, and `newsletter feedback fetch` reads them: the 550s end `cleaned`, the 452s are soft
bounces and delays that leave the status unchanged."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from newsletter.campaign.journal import Journal
from newsletter.cli import main
from newsletter.core import verp
from newsletter.feedback.events import DELAY, HARD_BOUNCE, SOFT_BOUNCE, EventStore
from tests.feedback.conftest import BOUNCE_DOMAIN, SECRET, FeedbackWorkspace
from tests.feedback.test_mailbox import mailbox_settings
from tests.support.mailservers import IMAP_PASSWORD

EXPECTED_REPORTS = 6   # gone1, gone2: failed; full1, full2: delayed, then failed on expiry


def send(fb: FeedbackWorkspace, port: int, edition: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NEWSLETTER_SMTP_URL": f"smtp://127.0.0.1:{port}", "NEWSLETTER_SECRET_KEY": SECRET}
    return subprocess.run([sys.executable, "-m", "newsletter", "-C", str(fb.root), "send", edition,
                           "--segment", "all", "--adapter", "smtp", "--yes", "--skip-publish-check"],
                          env=env, capture_output=True, text=True, timeout=120)


def maildir_count(mail_dir: Path) -> int:
    return sum(1 for sub in ("new", "cur") for p in (mail_dir / sub).iterdir() if p.is_file())


def test_postfix_dsns_reach_the_mailbox_and_fetch_acts_on_them(fb: FeedbackWorkspace, postfix_server,
                                                               dovecot_server, monkeypatch) -> None:
    postfix, relay = postfix_server
    (fb.root / "newsletter.yaml").write_text((fb.root / "newsletter.yaml").read_text()
                                             + mailbox_settings(dovecot_server, "INBOX", "postfix-done"))
    monkeypatch.setenv("NEWSLETTER_IMAP_PASSWORD", IMAP_PASSWORD)
    before = maildir_count(postfix.mail_dir)

    done = send(fb, postfix.port, "2026-11")
    assert done.returncode == 0, done.stdout + done.stderr

    # Every message left with its own VERP return path, which Postfix kept as the sender.
    key = fb.ws.secrets.secret_key
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(relay.handler.messages) < 6:
        time.sleep(0.5)
    senders = {m.rcpt_tos[0]: verp.parse(key, m.mail_from, BOUNCE_DOMAIN) for m in relay.handler.messages}
    assert set(senders) == {f"{n}@example.org" for n in ("ann", "ben", "cem", "dana", "eva", "finn")}
    assert all(found is not None and found.subscriber == fb.sid(to.partition("@")[0]) for to, found in senders.items())

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and maildir_count(postfix.mail_dir) - before < EXPECTED_REPORTS:
        time.sleep(1)
    arrived = maildir_count(postfix.mail_dir) - before
    assert arrived == EXPECTED_REPORTS, postfix.log.read_text()[-3000:]

    result = CliRunner().invoke(main, ["-C", str(fb.root), "feedback", "fetch"])
    assert result.exit_code == 0, result.output
    journal = Journal(fb.ws.db_path)
    campaign = journal.campaigns()[-1].id
    journal.close()
    with EventStore(fb.ws.db_path) as events:
        got = sorted((e.event.kind, e.event.email, e.event.campaign, e.event.status[:1]) for e in events.all())
    assert got == sorted([
        (HARD_BOUNCE, "gone1@example.org", campaign, "5"), (HARD_BOUNCE, "gone2@example.org", campaign, "5"),
        (DELAY, "full1@example.org", campaign, "4"), (DELAY, "full2@example.org", campaign, "4"),
        (SOFT_BOUNCE, "full1@example.org", campaign, "4"), (SOFT_BOUNCE, "full2@example.org", campaign, "4"),
    ]), result.output
    assert [fb.status(n) for n in ("gone1", "gone2", "full1", "full2", "ann")] == \
        ["cleaned", "cleaned", "subscribed", "subscribed", "subscribed"]

    again = CliRunner().invoke(main, ["-C", str(fb.root), "feedback", "fetch"])
    assert again.exit_code == 0 and "0 new message(s)" in again.output

    # The next campaign is not sent to the cleaned addresses at all.
    done = send(fb, postfix.port, "2026-10")
    assert done.returncode in (0, 1), done.stdout + done.stderr
    journal = Journal(fb.ws.db_path)
    try:
        nxt = journal.campaigns()[-1]
        assert nxt.id != campaign
        emails = {row.email for row in journal.rows(nxt.id)}
    finally:
        journal.close()
    assert "gone1@example.org" not in emails and "gone2@example.org" not in emails
    assert "full1@example.org" in emails and "ann@example.org" in emails

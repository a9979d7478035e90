"""`newsletter feedback fetch` against a real Dovecot IMAP server (TLS, loopback): the corpus
is appended to a folder, fetched, and each message ends as the event it reports; fetching
again changes nothing; what is not understood stays in the folder."""
from __future__ import annotations

import imaplib
import ssl
import time
import uuid

import pytest
from click.testing import CliRunner

from newsletter.cli import main
from newsletter.core import tokens
from newsletter.feedback.events import EventStore
from tests.feedback import corpus
from tests.feedback.conftest import FeedbackWorkspace
from tests.support.mailservers import IMAP_PASSWORD, IMAP_USER


def mailbox_settings(server, folder: str, processed: str | None) -> str:
    return ("feedback:\n  mailbox:\n    host: 127.0.0.1\n"
            f"    port: {server.port}\n    username: {IMAP_USER}\n    folder: {folder}\n"
            f"    processed_folder: {processed if processed else 'null'}\n    ca_file: {server.cafile}\n")


class Imap:
    """A test's own IMAP connection, to put messages in and look at what is left."""

    def __init__(self, server):
        context = ssl.create_default_context(cafile=str(server.cafile))
        self.imap = imaplib.IMAP4_SSL("127.0.0.1", server.port, ssl_context=context)
        self.imap.authenticate("PLAIN", lambda _: f"\0{IMAP_USER}\0{IMAP_PASSWORD}".encode())

    def append(self, folder: str, raw: bytes) -> None:
        self.imap.create(folder)
        status, data = self.imap.append(folder, None, imaplib.Time2Internaldate(time.time()), raw)
        assert status == "OK", data

    def subjects(self, folder: str) -> list[str]:
        status, _ = self.imap.select(folder, readonly=True)
        if status != "OK":
            return []
        _, data = self.imap.search(None, "ALL")
        out = []
        for num in data[0].split():
            _, parts = self.imap.fetch(num, "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            out.append(parts[0][1].decode().strip().removeprefix("Subject: "))
        self.imap.close()
        return sorted(out)

    def flags(self, folder: str) -> list[str]:
        self.imap.select(folder, readonly=True)
        _, data = self.imap.fetch("1:*", "(FLAGS)")
        self.imap.close()
        return [d.decode() for d in data if d]

    def close(self) -> None:
        self.imap.logout()


@pytest.fixture
def imap(dovecot_server):
    client = Imap(dovecot_server)
    yield client
    client.close()


def fetch(fb: FeedbackWorkspace, *args: str):
    return CliRunner().invoke(main, ["-C", str(fb.root), "feedback", "fetch", *args])


def test_fetch_reads_the_corpus_once_and_keeps_what_it_cannot_understand(
        fb: FeedbackWorkspace, dovecot_server, imap: Imap, monkeypatch) -> None:
    folder = f"corpus{uuid.uuid4().hex[:8]}"
    (fb.root / "newsletter.yaml").write_text((fb.root / "newsletter.yaml").read_text()
                                             + mailbox_settings(dovecot_server, folder, folder + "-done"))
    monkeypatch.setenv("NEWSLETTER_IMAP_PASSWORD", IMAP_PASSWORD)   # not ASCII: AUTHENTICATE PLAIN
    ws = fb.ws
    token = tokens.make_token(ws.secrets.secret_key, fb.sid("ann"), ws.settings.list_id)
    messages = {
        "hard": corpus.dsn(fb.return_path("gone1", 1), "gone1@example.org", original=fb.original("gone1")),
        "headers-only": corpus.dsn("news@mcin.example.org", "fwd@elsewhere.example",
                                   original=fb.original("ben"), headers_only=True),
        "soft": corpus.dsn(fb.return_path("full1", 1), "full1@example.org", status="4.2.2",
                           diagnostic="smtp; 452 4.2.2 full"),
        "delay": corpus.dsn(fb.return_path("full2", 1), "full2@example.org", action="delayed", status="4.4.1",
                            diagnostic=None),
        "complaint": corpus.arf("fbl@mcin.example.org", original=fb.original("eva"),
                                mail_from=fb.return_path("eva", 1)),
        "unsubscribe": corpus.mailto_unsubscribe("a@elsewhere.example", "unsubscribe@mcin.example.org",
                                                 f"unsubscribe {token}"),
        "vacation": corpus.vacation("dana@example.org", "news@mcin.example.org"),
        "qmail": corpus.qmail_bounce(fb.return_path("gone2", 1), "gone2@example.org"),
        "garbage": corpus.garbage("news@mcin.example.org"),
    }
    for raw in messages.values():
        imap.append(folder, raw)

    dry = fetch(fb, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "Dry run" in dry.output and fb.status("gone1") == "subscribed"
    assert len(imap.subjects(folder)) == len(messages)

    first = fetch(fb)
    assert first.exit_code == 0, first.output
    assert "9 new message(s)" in first.output
    assert {name: fb.status(name) for name in ("gone1", "ben", "full1", "full2", "eva", "ann", "dana", "gone2", "cem")} == {
        "gone1": "cleaned", "ben": "cleaned", "full1": "subscribed", "full2": "subscribed", "eva": "unsubscribed",
        "ann": "unsubscribed", "dana": "subscribed", "gone2": "cleaned", "cem": "subscribed"}
    with EventStore(ws.db_path) as events:
        kinds = sorted((e.event.kind, e.event.email) for e in events.all())
        verdicts = events.message_verdicts()
    assert kinds == sorted([("hard-bounce", "gone1@example.org"), ("hard-bounce", "fwd@elsewhere.example"),
                            ("soft-bounce", "full1@example.org"), ("delivery-delay", "full2@example.org"),
                            ("complaint", "eva@example.org"), ("unsubscribe-request", "a@elsewhere.example"),
                            ("hard-bounce", "gone2@example.org")])
    assert verdicts == {"bounce": 4, "delay": 1, "complaint": 1, "unsubscribe": 1, "auto-reply": 1, "unknown": 1}
    # Only the letter nobody could understand is left, flagged for a person; the rest moved.
    assert imap.subjects(folder) == ["Question about the mother centre in Lindenhof"]
    assert "$NewsletterUnknown" in imap.flags(folder)[0] and "\\Seen" not in imap.flags(folder)[0]
    assert len(imap.subjects(folder + "-done")) == 8
    assert "1 message(s) not understood" in first.output

    second = fetch(fb)
    assert second.exit_code == 0, second.output
    assert "0 new message(s)" in second.output and "1 handled before" in second.output
    assert "1 message(s) not understood earlier are still in the mailbox" in second.output
    with EventStore(ws.db_path) as events:
        assert len(events.all()) == len(kinds)
    assert fb.subscriber("gone1").bounces == 1


def test_flagging_instead_of_moving_and_remembering_by_message_id(fb, dovecot_server, imap, monkeypatch) -> None:
    folder = f"flags{uuid.uuid4().hex[:8]}"
    (fb.root / "newsletter.yaml").write_text((fb.root / "newsletter.yaml").read_text()
                                             + mailbox_settings(dovecot_server, folder, None))
    monkeypatch.setenv("NEWSLETTER_IMAP_PASSWORD", IMAP_PASSWORD)
    raw = corpus.dsn(fb.return_path("gone1", 2), "gone1@example.org")
    imap.append(folder, raw)
    imap.append(folder, raw)          # the same report twice (same Message-ID): handled once
    result = fetch(fb)
    assert result.exit_code == 0, result.output
    assert "1 new message(s)" in result.output and "1 handled before" in result.output
    assert all("$NewsletterDone" in f and "\\Seen" in f for f in imap.flags(folder)[:1])
    assert fb.subscriber("gone1").bounces == 1


def test_wrong_password_and_untrusted_certificate_are_clear_errors(fb, dovecot_server, monkeypatch) -> None:
    (fb.root / "newsletter.yaml").write_text((fb.root / "newsletter.yaml").read_text()
                                             + mailbox_settings(dovecot_server, "INBOX", None))
    monkeypatch.setenv("NEWSLETTER_IMAP_PASSWORD", "wrong")
    result = fetch(fb)
    assert result.exit_code == 1 and "refused the login" in result.output
    monkeypatch.delenv("NEWSLETTER_IMAP_PASSWORD")
    result = fetch(fb)
    assert result.exit_code == 1 and "NEWSLETTER_IMAP_PASSWORD" in result.output
    text = (fb.root / "newsletter.yaml").read_text().replace(f"    ca_file: {dovecot_server.cafile}\n", "")
    (fb.root / "newsletter.yaml").write_text(text)
    monkeypatch.setenv("NEWSLETTER_IMAP_PASSWORD", IMAP_PASSWORD)
    result = fetch(fb)
    assert result.exit_code == 1 and "not trusted" in result.output


def test_without_a_mailbox_setting_fetch_says_what_to_set(fb) -> None:
    result = fetch(fb)
    assert result.exit_code == 1 and "feedback.mailbox" in result.output

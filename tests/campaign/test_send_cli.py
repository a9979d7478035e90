"""`newsletter send` end to end, as an editor runs it: a copy of the sample workspace,
subscribers imported into SQLite, the real CLI in a subprocess, a real aiosmtpd server."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import main
from newsletter.campaign.journal import SENDING, SENT, Journal

LANGS = ["en", "de", "es"]


def make_workspace(ws: Path, people: int) -> list[str]:
    """Import ``people`` generated subscribers (every fourth a programme leader)."""
    rows = ["email,first_name,last_name,language,country,tags,centre"]
    emails = []
    for i in range(people):
        email = f"reader{i}@example.org"
        emails.append(email)
        tags = "leader" if i % 4 == 0 else "member"
        rows.append(f"{email},Reader{i},Test,{LANGS[i % 3]},DE,{tags},Centre {i}")
    (ws / "people.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["-C", str(ws), "subscribers", "import", str(ws / "people.csv")])
    assert result.exit_code == 0, result.output
    return emails


def env_for(port: int) -> dict[str, str]:
    return {**os.environ, "NEWSLETTER_SMTP_URL": f"smtp://127.0.0.1:{port}", "NEWSLETTER_SECRET_KEY": "k" * 32,
            "NEWSLETTER_DELIVERY__RETRY_FOR_SECONDS": "5"}


def cli(ws: Path, port: int, *args: str) -> subprocess.Popen:
    # The sample's public URLs (mcin.example.org) are not online; the publish check has its own
    # tests against a local server (tests/publish/test_send_check.py).
    return subprocess.Popen([sys.executable, "-m", "newsletter", "-C", str(ws), "send", "2026-11", *args,
                             "--skip-publish-check"],
                            env=env_for(port), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def journal_rows(ws: Path):
    journal = Journal(ws / "subscribers" / "newsletter.sqlite3")
    try:
        return journal.rows(journal.campaigns()[-1].id)
    finally:
        journal.close()


def test_dry_run_sends_nothing_and_writes_samples(sample_ws: Path, smtp_server) -> None:
    make_workspace(sample_ws, 12)
    proc = cli(sample_ws, smtp_server.port, "--segment", "all", "--adapter", "smtp", "--dry-run")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "by language: de 4, en 4, es 4" in out
    assert "by variant:  de 3, de+leaders 1, en 3, en+leaders 1, es 3, es+leaders 1" in out
    samples = sorted((sample_ws / "build" / "2026-11" / "dry-run").glob("*.eml"))
    assert len(samples) == 6
    message = BytesParser(policy=policy.default).parsebytes(samples[0].read_bytes())
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert smtp_server.handler.messages == []
    assert not Journal(sample_ws / "subscribers" / "newsletter.sqlite3").campaigns()


def test_a_real_send_needs_confirmation(sample_ws: Path, smtp_server) -> None:
    make_workspace(sample_ws, 3)
    proc = cli(sample_ws, smtp_server.port, "--segment", "all", "--adapter", "smtp")
    out, err = proc.communicate(timeout=60, input=None)
    assert proc.returncode == 2
    assert "pass --yes" in err
    assert smtp_server.handler.messages == []


def test_test_sends_one_per_variant_outside_the_journal(sample_ws: Path, smtp_server) -> None:
    make_workspace(sample_ws, 6)
    proc = cli(sample_ws, smtp_server.port, "-s", "all", "--adapter", "smtp", "--test", "editor@example.net")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    got = smtp_server.handler.messages
    # Six people make five variants: en, de, es, and leaders' blocks in en and de.
    assert len(got) == 5 and all(m.rcpt_tos == ["editor@example.net"] for m in got)
    assert all(m.message["Subject"].startswith("[TEST] ") for m in got)
    assert not Journal(sample_ws / "subscribers" / "newsletter.sqlite3").campaigns()


def test_failures_are_retried_recorded_and_bounced(sample_ws: Path, smtp_server) -> None:
    emails = make_workspace(sample_ws, 9)
    smtp_server.handler.temporary = {emails[1]: 1, emails[2]: 2}
    smtp_server.handler.permanent = {emails[4]}
    proc = cli(sample_ws, smtp_server.port, "-s", "all", "--adapter", "smtp", "--yes")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, (out, err)  # not everything was delivered
    assert "failed permanently 1" in out and emails[4] in out
    per = smtp_server.handler.per_address()
    assert per == {e: 1 for e in emails if e != emails[4]}
    show = CliRunner().invoke(main, ["-C", str(sample_ws), "subscribers", "show", emails[4]])
    assert "bounced" in show.output or "cleaned" in show.output, show.output
    # Running it again sends nobody anything twice.
    again = cli(sample_ws, smtp_server.port, "-s", "all", "--adapter", "smtp", "--yes")
    again.communicate(timeout=60)
    assert smtp_server.handler.per_address() == per


def test_killed_send_resumes_without_duplicates(sample_ws: Path, smtp_server) -> None:
    seed = int(os.environ.get("KILL_TEST_SEED", random.randrange(10**6)))
    rng = random.Random(seed)
    emails = make_workspace(sample_ws, 150)
    args = ("-s", "all", "--adapter", "smtp", "--yes", "--rate", "100", "--connections", "2")
    kills = 3
    for _ in range(kills):
        proc = cli(sample_ws, smtp_server.port, *args)
        deadline = time.monotonic() + 30
        while not smtp_server.handler.messages and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        time.sleep(rng.uniform(0.05, 0.4))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    final = cli(sample_ws, smtp_server.port, *args)
    out, err = final.communicate(timeout=120)
    assert final.returncode in (0, 1), (seed, out, err)
    rows = journal_rows(sample_ws)
    unknown = [r for r in rows if r.status == SENDING]
    received = smtp_server.handler.per_address()
    assert len(rows) == len(emails), seed
    assert len(unknown) <= 2 * kills, seed
    assert max(received.values()) == 1, f"seed {seed}: someone got a message twice"
    assert {r.email for r in rows if r.status == SENT} | {r.email for r in unknown} == set(emails)
    for row in rows:
        if row.status == SENT:
            assert received[row.email] == 1, (seed, row)
    assert final.returncode == (1 if unknown else 0), (seed, out, err)
    if unknown:
        assert "--resend-unknown" in out


def test_two_sends_at_once_one_refuses(sample_ws: Path, smtp_server) -> None:
    # 240 at 60/s keep the first busy for 4 s, longer than the second needs to start.
    emails = make_workspace(sample_ws, 240)
    args = ("-s", "all", "--adapter", "smtp", "--yes", "--rate", "60")
    first = cli(sample_ws, smtp_server.port, *args)
    deadline = time.monotonic() + 30
    while not smtp_server.handler.messages and time.monotonic() < deadline:
        time.sleep(0.02)
    second = cli(sample_ws, smtp_server.port, *args)
    out2, err2 = second.communicate(timeout=60)
    out1, err1 = first.communicate(timeout=120)
    assert second.returncode == 3, (out2, err2)
    assert "being sent by another process" in err2
    assert first.returncode == 0, (out1, err1)
    assert smtp_server.handler.per_address() == {e: 1 for e in emails}

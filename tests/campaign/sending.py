"""Helpers for the end-to-end send tests: a sample workspace with generated subscribers, the
real `newsletter send` in a subprocess, and the journal's rows."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

from click.testing import CliRunner

from newsletter.campaign.journal import Journal
from newsletter.cli import main

LANGS = ["en", "de", "es"]


def make_workspace(ws: Path, people: int, start: int = 0) -> list[str]:
    """Import ``people`` generated subscribers (every fourth a programme leader; languages
    en, de, es in turn)."""
    rows = ["email,first_name,last_name,language,country,tags,centre"]
    emails = []
    for i in range(start, start + people):
        email = f"reader{i}@example.org"
        emails.append(email)
        tags = "leader" if i % 4 == 0 else "member"
        rows.append(f"{email},Reader{i},Test,{LANGS[i % 3]},DE,{tags},Centre {i}")
    (ws / "people.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["-C", str(ws), "subscribers", "import", str(ws / "people.csv")])
    assert result.exit_code == 0, result.output
    return emails


def env_for(port: int, **extra: str) -> dict[str, str]:
    return {**os.environ, "NEWSLETTER_SMTP_URL": f"smtp://127.0.0.1:{port}", "NEWSLETTER_SECRET_KEY": "k" * 32,
            "NEWSLETTER_DELIVERY__RETRY_FOR_SECONDS": "5", **extra}


def cli(ws: Path, port: int, *args: str, edition: str = "2026-11", **extra: str) -> subprocess.Popen:
    # The sample's public URLs (mcin.example.org) are not online; the publish check has its own
    # tests against a local server (tests/publish/test_send_check.py).
    return subprocess.Popen([sys.executable, "-m", "newsletter", "-C", str(ws), "send", edition, *args,
                             "--skip-publish-check"],
                            env=env_for(port, **extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def db_path(ws: Path) -> Path:
    return ws / "subscribers" / "newsletter.sqlite3"


def journal_rows(ws: Path, campaign: int | None = None):
    with Journal(db_path(ws)) as journal:
        return journal.rows(campaign or journal.campaigns()[-1].id)


def wait_for(condition: Callable[[], bool], seconds: float = 30, what: str = "the condition") -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds} s for {what}")
        time.sleep(0.02)

"""Feedback intake speed: mailbox messages read into events per second (``reports.read``: a
mix of RFC 3464 DSNs with and without the original, ARF complaints, qmail bounces, vacation
replies and unreadable letters), against flufl.bounce's detectors alone on the same messages
(the reference: what a Mailman-style detector costs), and events recorded into SQLite per
second (``apply.record``: store, apply to the subscriber, mark).

    python bench/bench_feedback.py [--messages 2000] [--rounds 5]

A campaign of 100,000 with 2 % bounces brings 2,000 reports; the goal is to read them in
well under a minute. Nothing here is asserted; tests never time anything.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from email import message_from_bytes, policy
from pathlib import Path
from typing import Sequence

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import Goal, Report, markdown_table  # noqa: E402


def _workspace(folder: Path, people: int) -> Path:
    ws = folder / "ws"
    ws.mkdir()
    for name in ("newsletter.yaml", "issues", "templates", "subscribers"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, ws / name)
    for stale in (ws / "subscribers").glob("*.sqlite3*"):
        stale.unlink()
    text = (ws / "newsletter.yaml").read_text().replace(
        "  connections: 2\n", "  connections: 2\n  bounce_domain: bounces.mcin.example.org\n")
    (ws / "newsletter.yaml").write_text(text)
    rows = ["email,first_name"] + [f"reader{i}@example.org,Reader{i}" for i in range(people)]
    (folder / "people.csv").write_text("\n".join(rows) + "\n")
    from click.testing import CliRunner

    from newsletter.cli import main as cli

    done = CliRunner().invoke(cli, ["-C", str(ws), "subscribers", "import", str(folder / "people.csv")])
    if done.exit_code != 0:
        raise RuntimeError(done.output)
    return ws


def _corpus(ws_root: Path, count: int) -> list[bytes]:
    from newsletter.core import verp
    from newsletter.core.config import load_workspace
    from newsletter.subscribers.store import Store
    from tests.feedback import corpus
    from tests.feedback.conftest import FeedbackWorkspace

    fb = FeedbackWorkspace(ws_root)
    ws = fb.ws
    key, domain = ws.secrets.secret_key, ws.settings.delivery.bounce_domain
    with Store.open(load_workspace(ws_root)) as store:
        ids = {s.email: s.stored_id for s in store.iter_all()}
    original = type(fb).original   # composed once per subscriber below
    messages = []
    for i in range(count):
        email = f"reader{i % len(ids)}@example.org"
        rp = verp.return_path(key, ids[email], 1 + i % 3, domain)
        kind = i % 8
        if kind in (0, 1, 2):
            messages.append(corpus.dsn(rp, email, original=_original(fb, email, original)))
        elif kind == 3:
            messages.append(corpus.dsn("news@mcin.example.org", email, original=_original(fb, email, original),
                                       headers_only=True))
        elif kind == 4:
            messages.append(corpus.dsn(rp, email, action="delayed", status="4.4.1", diagnostic=None))
        elif kind == 5:
            messages.append(corpus.arf("fbl@example.net", original=_original(fb, email, original), mail_from=rp))
        elif kind == 6:
            messages.append(corpus.qmail_bounce(rp, email))
        else:
            messages.append(corpus.vacation(email, "news@mcin.example.org") if i % 16 == 7
                            else corpus.garbage("news@mcin.example.org"))
    return messages


_ORIGINALS: dict[str, bytes] = {}


def _original(fb, email: str, compose) -> bytes:
    if email not in _ORIGINALS:
        _ORIGINALS[email] = compose(fb, email.partition("@")[0])
    return _ORIGINALS[email]


def main(argv: Sequence[str] | None = None) -> Report:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    os.environ.setdefault("NEWSLETTER_SECRET_KEY", "bench-feedback-secret-key")
    from flufl.bounce import all_failures

    from newsletter.core.config import load_workspace
    from newsletter.feedback import reports
    from newsletter.feedback.apply import Policy, record
    from newsletter.feedback.events import EventStore
    from newsletter.feedback.mailbox import reading_context
    from newsletter.subscribers.store import Store

    with tempfile.TemporaryDirectory(prefix="bench-feedback-") as tmp:
        root = _workspace(Path(tmp), 200)
        messages = _corpus(root, args.messages)
        ws = load_workspace(root)
        ours, theirs = [], []
        with Store.open(ws) as store:
            ctx = reading_context(ws, store)
            for _ in range(args.rounds):
                start = time.perf_counter()
                readings = [reports.read(raw, ctx) for raw in messages]
                ours.append(len(messages) / (time.perf_counter() - start))
                start = time.perf_counter()
                for raw in messages:
                    all_failures(message_from_bytes(raw, policy=policy.compat32))
                theirs.append(len(messages) / (time.perf_counter() - start))
            events = [e for r in readings for e in r.events]
            with EventStore(ws.db_path) as stored:
                start = time.perf_counter()
                for event in events:
                    record(stored, store, event, Policy.from_settings(ws.settings))
                recorded = len(events) / (time.perf_counter() - start)
    read_rate, flufl_rate = statistics.median(ours), statistics.median(theirs)
    table = markdown_table(["what", "per second"], [
        ["reports.read (classify + identify)", f"{read_rate:,.0f}"],
        ["flufl.bounce all_failures alone", f"{flufl_rate:,.0f}"],
        ["apply.record (SQLite, per event)", f"{recorded:,.0f}"]])
    goals = [Goal("read at least 500 mailbox reports/s", f"{read_rate:,.0f}/s", read_rate >= 500),
             Goal("record at least 200 events/s", f"{recorded:,.0f}/s", recorded >= 200)]
    return Report("feedback", "feedback: mailbox reports read and events recorded", table, goals,
                  [f"{len(messages)} messages, median of {args.rounds} rounds; {len(events)} events recorded once"])


if __name__ == "__main__":
    print(main().text())

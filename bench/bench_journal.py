"""The send journal's durability cost: claim + record per message, as the runner writes them
(through GroupCommit: one writer thread, the workers' claims and outcomes committed together),
with the setting `newsletter send` uses (a transaction holding a claim is synced with
synchronous=FULL) against all-NORMAL (durable against a process crash only), and against one
transaction per claim and per outcome on each worker's own connection (before GroupCommit).

    python bench/bench_journal.py [--messages 3000] [--rounds 3] [--threads 4]

``--threads`` workers claim and record at once, each on its own connection, as the runner's
do. Interleaved rounds, medians, on the disk that holds the temporary folder (the workspace's
disk in real use). No goal: the figure says what an OS-crash-proof journal costs here.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import Report, markdown_table  # noqa: E402
from newsletter.campaign import journal as journal_module  # noqa: E402
from newsletter.campaign.journal import GroupCommit, Journal  # noqa: E402
from newsletter.core import db  # noqa: E402
from newsletter.delivery.states import RecipientState  # noqa: E402

MODES = {
    "group commit, claims synced (newsletter send)": (None, True),
    "group commit, nothing synced (process crash only)": ("NORMAL", True),
    "a commit per claim and per outcome, claims synced": (None, False),
}


@contextmanager
def mode(level: str | None) -> Iterator[None]:
    """Every journal write at ``level`` (None: the journal's own choice)."""
    if level is None:
        yield
        return
    original = Journal._durable

    @contextmanager
    def same_level(self):  # type: ignore[no-untyped-def]
        with db.transaction(self.conn()) as conn:
            yield conn

    real_connect = journal_module.db.connect

    def connect(path, **kw):  # type: ignore[no-untyped-def]
        conn = real_connect(path, **kw)
        conn.execute(f"PRAGMA synchronous = {level}")
        return conn

    Journal._durable = same_level  # type: ignore[method-assign]
    journal_module.db.connect = connect  # type: ignore[assignment]
    try:
        yield
    finally:
        Journal._durable = original  # type: ignore[method-assign]
        journal_module.db.connect = real_connect  # type: ignore[assignment]


def one_round(folder: Path, level: str | None, grouped: bool, messages: int, threads: int) -> float:
    """Messages per second for ``messages`` claims and records by ``threads`` workers."""
    path = folder / f"journal-{time.monotonic_ns()}.sqlite3"
    with mode(level):
        journal = Journal(path)
        campaign = journal.create_campaign("bench", "all", "smtp")
        journal.enqueue(campaign.id, ((str(i), f"reader{i}@example.org", "en") for i in range(messages)))
        shares = [list(range(t, messages, threads)) for t in range(threads)]
        writer = GroupCommit(journal) if grouped else journal

        def work(ids: list[int]) -> None:
            for i in ids:
                writer.claim(campaign.id, str(i), f"reader{i}@example.org", edition="bench")
                writer.record(campaign.id, str(i), RecipientState.SENT, "250 2.0.0 OK queued")
            journal.close()

        started = time.perf_counter()
        workers = [threading.Thread(target=work, args=(ids,)) for ids in shares]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        if isinstance(writer, GroupCommit):
            writer.close()
        elapsed = time.perf_counter() - started
        journal.close()
    return messages / elapsed


def main(argv: Sequence[str] | None = None) -> Report:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args(argv)
    rates: dict[str, list[float]] = {name: [] for name in MODES}
    with tempfile.TemporaryDirectory(prefix="bench-journal-") as tmp:
        for _ in range(args.rounds):
            for name, (level, grouped) in MODES.items():
                rates[name].append(one_round(Path(tmp), level, grouped, args.messages, args.threads))
    base = statistics.median(rates["group commit, nothing synced (process crash only)"])
    rows = [[name, f"{statistics.median(r):,.0f}", f"{statistics.median(r) / base:.2f}x"] for name, r in rates.items()]
    table = markdown_table(["journal writes", "messages/s (claim + outcome)", "vs nothing synced"], rows)
    return Report("journal", "journal: the cost of durability (claim + outcome per message)", table, [],
                  [f"median of {args.rounds} interleaved rounds of {args.messages:,} messages, "
                   f"{args.threads} threads, in {tempfile.gettempdir()}"])


if __name__ == "__main__":
    print(main().text())

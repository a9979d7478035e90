"""Send: an end-to-end `newsletter send` of 5,000 recipients over SMTP on loopback to Postfix's
smtp-sink, against Postfix's smtp-source sending as many messages of the same size over the
same number of connections to the same sink.

    python bench/bench_send.py [--recipients 5000] [--connections 4] [--runs 3]

`newsletter send` is timed as a whole process: start-up, rendering the edition, reading the
segment, composing, SMTP, and the send journal's commits. Every run starts from a fresh copy
of the workspace (an empty journal) and must leave smtp-sink holding exactly one message per
recipient. Goal: at least half of smtp-source's throughput.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Callable

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import data, postfix  # noqa: E402
from bench.common import (ROOT, SAMPLE_EDITION, Goal, Report, Run, Unavailable, interleaved,  # noqa: E402
                          markdown_table, median, newsletter_cmd, note, python_env, ratio, run_process,
                          seconds, spread)

GOAL = 0.5
SECRET = "bench-only-secret-key-0123456789abcdef"
SEGMENT = "all"
SMTP_SOURCE_HEADERS = 110  # smtp-source adds From, To, Date and Message-Id to its -l body


def send_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    return python_env({"NEWSLETTER_SECRET_KEY": SECRET, **(extra or {})})


def require_send(ws: Path) -> None:
    """`newsletter send` must exist on this branch (it lands with delivery)."""
    try:
        run_process(newsletter_cmd(ws, "send", "--help"), env=send_env(), timeout=120)
    except RuntimeError:
        raise Unavailable("`newsletter send` is not in this checkout yet (it lands with delivery)") from None


def send_to_sink(ws: Path, recipients: int, connections: int, log: Path,
                 edition: str = SAMPLE_EDITION, journal_sync: str = "full") -> Run:
    """One whole `newsletter send` to a fresh smtp-sink; checks every recipient got one message."""
    with postfix.Sink(count=True, log=log.with_suffix(".sink.log")) as sink:
        env = send_env({"NEWSLETTER_SMTP_URL": sink.url, "NEWSLETTER_DELIVERY__CONNECTIONS": str(connections),
                        "NEWSLETTER_DELIVERY__JOURNAL_SYNC": journal_sync})
        # The sample edition's public URLs are not online here; the benchmark measures sending.
        cmd = newsletter_cmd(ws, "send", edition, "--segment", SEGMENT, "--adapter", "smtp", "--yes",
                             "--skip-publish-check")
        run = run_process(cmd, env=env, log=log, timeout=1800)
        _expect(sink, recipients, f"newsletter send (log: {log})")
    return run


def smtp_source(messages: int, connections: int, body_bytes: int, log: Path) -> Run:
    with postfix.Sink(count=True, log=log) as sink:
        run = postfix.source(sink.port, messages=messages, connections=connections, body_bytes=body_bytes)
        _expect(sink, messages, "smtp-source")
    return run


def _expect(sink: postfix.Sink, messages: int, who: str) -> None:
    got = sink.delivered()
    if got != messages:
        raise RuntimeError(f"{who}: smtp-sink accepted {got} messages, expected {messages}")


def message_size(tmp: Path, edition: str) -> tuple[int, int]:
    """Mean and largest size in bytes of the messages `newsletter send` writes for the same mix
    of subscribers, taken from the outbox adapter's .eml files for a small list."""
    ws = data.workspace(tmp / "calibration", 120)
    run_process(newsletter_cmd(ws, "send", edition, "--segment", SEGMENT, "--adapter", "outbox", "--yes"),
                env=send_env(), log=tmp / "calibration.log")
    sizes = [p.stat().st_size for p in ws.rglob("*.eml")]
    if len(sizes) != 120:
        raise RuntimeError(f"the outbox holds {len(sizes)} messages for 120 recipients (see {tmp / 'calibration.log'})")
    return round(statistics.mean(sizes)), max(sizes)


def cases(tmp: Path, base: Path, recipients: int, connections: int, body: int,
          edition: str) -> dict[str, Callable[[], Run]]:
    counter = iter(range(1_000_000))

    def ours(journal_sync: str = "full") -> Run:
        ws = tmp / f"run{next(counter)}"
        shutil.copytree(base, ws)  # an empty send journal every time
        try:
            return send_to_sink(ws, recipients, connections, tmp / f"{ws.name}.log", edition, journal_sync)
        finally:
            shutil.rmtree(ws, ignore_errors=True)

    return {"newsletter send": ours,
            "newsletter send, journal_sync normal": lambda: ours("normal"),
            "smtp-source": lambda: smtp_source(recipients, connections, body, tmp / "source.sink.log")}


def report(results: dict[str, list[Run]], recipients: int, connections: int, size: int, largest: int,
           body: int, runs: int, version: str) -> Report:
    rates = {name: [recipients / r.wall for r in rs] for name, rs in results.items()}
    rows = []
    labels = {"newsletter send": ("`newsletter send` (smtp adapter; claims synced)", f"{size:,} (mean)"),
              "newsletter send, journal_sync normal": ("`newsletter send`, `delivery.journal_sync: normal`",
                                                       f"{size:,} (mean)"),
              "smtp-source": ("Postfix smtp-source (reference)", f"{body + SMTP_SOURCE_HEADERS:,}")}
    for key, (label, shown_size) in labels.items():
        walls = [r.wall for r in results[key]]
        rows.append([label, f"{recipients:,}", str(connections), shown_size, seconds(median(walls)),
                     spread(walls), f"{median(rates[key]):,.0f}", seconds(median(r.cpu for r in results[key])),
                     ratio(median(rates[key]), median(rates["smtp-source"]))])
    table = markdown_table(["sender", "messages", "connections", "bytes/message", "wall s (median)",
                            "wall min-max", "messages/s", "CPU s", "vs reference"], rows)
    ours, ref = median(rates["newsletter send"]), median(rates["smtp-source"])
    goals = [Goal("`newsletter send` at least half of smtp-source's throughput", ratio(ours, ref), ours >= GOAL * ref)]
    fast = median(rates["newsletter send, journal_sync normal"])
    notes_sync = [f"syncing each claim to disk (the default, safe through an OS crash) costs "
                  f"{1 - ours / fast:.0%} of the throughput here: {ours:,.0f} against {fast:,.0f} messages/s "
                  "with `delivery.journal_sync: normal` (safe against a crash of the process only)."]
    notes = [f"{runs} interleaved runs after one warm-up; both to Postfix {version} smtp-sink on 127.0.0.1, "
             "which accepted exactly one message per recipient in every run.",
             f"`newsletter send` is the whole process (start-up, rendering, journal); its messages "
             f"are {size:,} bytes on average, {largest:,} at most.", *notes_sync]
    return Report("send", f"send: {recipients:,} recipients over SMTP to smtp-sink", table, goals, notes)


def main(argv: list[str] | None = None) -> Report:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=5000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--edition", default=SAMPLE_EDITION)
    args = parser.parse_args(argv)
    version = postfix.ensure()
    with tempfile.TemporaryDirectory(prefix="bench-send-") as name:
        tmp = Path(name)
        require_send(ROOT)
        size, largest = message_size(tmp, args.edition)
        body = max(size - SMTP_SOURCE_HEADERS, 0)
        base = data.workspace(tmp / "base", args.recipients)
        found = cases(tmp, base, args.recipients, args.connections, body, args.edition)
        results = interleaved(found, args.runs, progress=lambda s: note(f"send: {s}"))
    return report(results, args.recipients, args.connections, size, largest, body, args.runs, version)


if __name__ == "__main__":
    try:
        print(main().text())
    except Unavailable as exc:
        raise SystemExit(f"send benchmark skipped: {exc}")

"""Memory: peak resident memory of `newsletter send` of 10,000 and of 50,000 recipients to
Postfix's smtp-sink over SMTP on loopback.

    python bench/bench_memory.py [--sizes 10000,50000] [--connections 4] [--runs 1]

Peak RSS is the kernel's high-water mark for the `newsletter send` process (wait4's ru_maxrss),
so it counts everything the process ever held at once. Goals: at most 150 MB, and the larger
send at most 1.2x the smaller: memory must not grow with the list.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import data, postfix  # noqa: E402
from bench.bench_send import require_send, send_to_sink  # noqa: E402
from bench.common import (ROOT, SAMPLE_EDITION, Goal, Report, Run, Unavailable, markdown_table, median,  # noqa: E402
                          note, seconds)

LIMIT_MB = 150
GROWTH = 1.2
MB = 1024 * 1024


def measure(tmp: Path, size: int, runs: int, connections: int, edition: str) -> list[Run]:
    base = data.workspace(tmp / f"ws{size}", size)
    out = []
    for i in range(runs):
        ws = tmp / f"ws{size}-run{i}"
        shutil.copytree(base, ws)  # an empty send journal every time
        out.append(send_to_sink(ws, size, connections, tmp / f"send{size}-{i}.log", edition))
        note(f"memory: {size:,} recipients, run {i + 1}/{runs}: {out[-1].max_rss / MB:.0f} MB")
    return out


def report(results: dict[int, list[Run]], connections: int, runs: int) -> Report:
    peaks = {size: median(r.max_rss for r in rs) / MB for size, rs in results.items()}
    rows = []
    for size, rs in results.items():
        wall = median(r.wall for r in rs)
        rows.append([f"{size:,}", f"{peaks[size]:.1f}", seconds(wall), f"{size / wall:,.0f}"])
    table = markdown_table(["recipients", "peak RSS MB", "wall s", "messages/s"], rows)
    small, large = min(peaks), max(peaks)
    goals = [Goal(f"peak RSS at most {LIMIT_MB} MB", f"{max(peaks.values()):.1f} MB", max(peaks.values()) <= LIMIT_MB)]
    if small != large:
        growth = peaks[large] / peaks[small]
        goals.append(Goal(f"{large:,} recipients at most {GROWTH}x the memory of {small:,}",
                          f"{growth:.2f}x", growth <= GROWTH))
    notes = [f"Whole `newsletter send` processes, {connections} SMTP connections, "
             f"{runs} run(s) per size (median); every recipient's message reached smtp-sink."]
    return Report("memory", "memory: peak RSS of `newsletter send`", table, goals, notes)


def main(argv: list[str] | None = None) -> Report:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,50000", help="comma-separated recipient counts")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--edition", default=SAMPLE_EDITION)
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    postfix.ensure()
    require_send(ROOT)
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as name:
        results = {size: measure(Path(name), size, args.runs, args.connections, args.edition) for size in sizes}
    return report(results, args.connections, args.runs)


if __name__ == "__main__":
    try:
        print(main().text())
    except Unavailable as exc:
        raise SystemExit(f"memory benchmark skipped: {exc}")

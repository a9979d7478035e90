"""Run every benchmark, print each table, and write bench/results/latest.md (git-ignored) for
the README's "Performance" section. This is `make bench`.

    python bench/run_all.py [--only build,send] [--quick]

Benchmarks, each against a reference or a goal measured in the same run on the same machine:
build (vs the MJML CLI), compose (vs the standard library's EmailMessage), send (vs Postfix's
smtp-source), memory (peak RSS of large sends), import (Mailchimp rows/s), preview (refresh
latency), dkim, and serve (one-click unsubscribes/s and p99 latency, 50 clients, one worker).
A benchmark that cannot run here (a tool missing, a part not yet merged) says why and
the others go on. `--quick` runs smaller versions, to check the machinery, not for figures.
Exit code: 0 when every benchmark ran (whether or not it met its goal), 1 otherwise.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib
import io
import os
import re
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (RESULTS, ROOT, Goal, Report, Unavailable, load_average, machine,  # noqa: E402
                          markdown_table)


@dataclass(frozen=True)
class Benchmark:
    name: str
    module: str
    args: list[str]
    quick: list[str]
    # For scripts that print their own table: reads the goal verdicts from what main()
    # returned and printed.
    goals: Callable[[Any, str], list[Goal]] | None = None


def import_goals(result: Any, _out: str) -> list[Goal]:
    """bench_import returns [(label, rows, wall s, cpu s), ...]; the goal is about the
    Mailchimp export into an empty store, on wall-clock time."""
    goals = []
    for label, rows, wall, cpu in result or []:
        if label.startswith("mailchimp") and "empty" in label:
            rate = rows / wall
            goals.append(Goal(f"import of {rows:,} Mailchimp rows at least 20,000 rows/s",
                              f"{rate:,.0f} rows/s ({rows / cpu:,.0f} per CPU second)", rate >= 20_000))
    return goals


def preview_goals(_result: Any, out: str) -> list[Goal]:
    found = re.search(r"refresh median ([\d.]+) ms (meets|MISSES)", out)
    if not found:
        return []
    return [Goal("preview refresh at most 100 ms (median)", f"{found.group(1)} ms", found.group(2) == "meets")]


def compose_goals(_result: Any, out: str) -> list[Goal]:
    """bench_compose prints, per case (a line, then indented figures), messages/s of the composer
    and of EmailMessage and the speed-up; every case is held to the goals."""
    goals = []
    for case in re.split(r"\n(?=\S)", out):
        label = case.split(" (", 1)[0].split(":", 1)[0].strip()
        ours = re.search(r"Composer\.compose\s+([\d,.]+)", case)
        speedup = re.search(r"speed-up\s+([\d.]+)", case)
        if not (ours and speedup):
            continue
        rate, times = float(ours.group(1).replace(",", "")), float(speedup.group(1))
        goals += [Goal(f"{label}: composer at least 8x the standard library's EmailMessage", f"{times:.1f}x",
                       times >= 8),
                  Goal(f"{label}: composer at least 1,000 messages/s on one core", f"{rate:,.0f} messages/s",
                       rate >= 1000)]
    return goals


BENCHMARKS = [
    Benchmark("build", "bench.bench_build", [], ["--runs", "3"]),
    Benchmark("compose", "bench.bench_compose", [], ["--rounds", "3", "--messages", "500"], compose_goals),
    Benchmark("send", "bench.bench_send", [], ["--recipients", "1000", "--runs", "1"]),
    Benchmark("memory", "bench.bench_memory", [], ["--sizes", "2000,10000"]),
    Benchmark("import", "bench.bench_import", [], ["--rows", "20000", "--repeat", "1"], import_goals),
    Benchmark("preview", "bench.bench_preview", [], ["--runs", "5"], preview_goals),
    Benchmark("dkim", "bench.bench_dkim", [], ["--rounds", "2", "--messages", "200"]),
    Benchmark("serve", "bench.bench_serve", [], ["--subscribers", "2500", "--requests", "1000"]),
    Benchmark("feedback", "bench.bench_feedback", [], ["--messages", "400", "--rounds", "2"]),
]
# Import runs first among those measured inside this process: it reports this process's peak
# memory, which the others would inflate. Results are still shown in the order above.
RUN_ORDER = ["build", "import", "compose", "dkim", "feedback", "preview", "send", "memory", "serve"]


class Tee(io.TextIOBase):
    """Prints as it goes and keeps a copy."""

    def __init__(self, target: Any):
        self.target, self.copy = target, io.StringIO()

    def write(self, text: str) -> int:
        self.target.write(text)
        self.target.flush()
        return self.copy.write(text)


@dataclass
class Outcome:
    bench: Benchmark
    status: str            # "ran", "skipped", "failed"
    text: str              # Markdown for latest.md
    goals: list[Goal]
    seconds: float


def run_one(bench: Benchmark, quick: bool) -> Outcome:
    """One benchmark in this process. bench_compose pins the process to one core: the CPU
    set is put back afterwards, or every later benchmark would run on one core too."""
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    try:
        return _run_one(bench, quick)
    finally:
        if cpus is not None:
            os.sched_setaffinity(0, cpus)


def _run_one(bench: Benchmark, quick: bool) -> Outcome:
    print(f"\n== {bench.name} ==", flush=True)
    start = time.perf_counter()
    tee = Tee(sys.stdout)
    try:
        module = importlib.import_module(bench.module)
        with contextlib.redirect_stdout(tee):
            result = module.main(bench.quick if quick else bench.args)
    except Unavailable as exc:
        return _outcome(bench, "skipped", f"skipped: {exc}", start)
    except ModuleNotFoundError as exc:
        if exc.name != bench.module and not (exc.name or "").startswith("newsletter."):
            return _failed(bench, start)
        return _outcome(bench, "skipped", f"skipped: not in this checkout yet ({exc.name} is missing)", start)
    except Exception:  # one broken benchmark must not hide the others' figures
        return _failed(bench, start)
    if isinstance(result, Report):
        print(result.text(), flush=True)
        return Outcome(bench, "ran", result.text(), result.goals, time.perf_counter() - start)
    printed = tee.copy.getvalue().strip()
    goals = bench.goals(result, printed) if bench.goals else []
    lines = [f"### {bench.name}", "", "```", printed, "```", ""] + [f"- {g.line()}" for g in goals]
    return Outcome(bench, "ran", "\n".join(lines) + "\n", goals, time.perf_counter() - start)


def _outcome(bench: Benchmark, status: str, message: str, start: float) -> Outcome:
    print(message, flush=True)
    return Outcome(bench, status, f"### {bench.name}\n\n{message}\n", [], time.perf_counter() - start)


def _failed(bench: Benchmark, start: float) -> Outcome:
    trace = traceback.format_exc()
    print(trace, file=sys.stderr, flush=True)
    last = trace.strip().splitlines()[-1]
    return _outcome(bench, "failed", f"FAILED: {last}", start)


def summary(outcomes: list[Outcome]) -> str:
    rows = []
    for o in outcomes:
        if not o.goals:
            rows.append([o.bench.name, "-", "-", o.status if o.status != "ran" else "ran (no goal read)"])
        for goal in o.goals:
            rows.append([o.bench.name, goal.text, goal.measured, "meets" if goal.held else "MISSES"])
    return markdown_table(["benchmark", "goal", "measured", "verdict"], rows)


def commit() -> str:
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=30)
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() + (" (with local changes)" if dirty else "") if out.returncode == 0 else "unknown"


def write_results(outcomes: list[Outcome], header: list[str], elapsed: float) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "latest.md"
    parts = ["# Benchmark results", "", *header, f"- Total time: {elapsed / 60:.1f} min", "",
             "## Summary", "", summary(outcomes), ""]
    parts += [o.text for o in outcomes]
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated names: " + ", ".join(b.name for b in BENCHMARKS))
    parser.add_argument("--quick", action="store_true", help="small runs, to check the scripts work")
    args = parser.parse_args(argv)
    chosen = [b for b in BENCHMARKS if not args.only or b.name in args.only.split(",")]
    header = [f"- Machine: {machine()}",
              f"- Load average at the start: {load_average()}",
              f"- Date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, commit {commit()}",
              "- Command: `make bench` (`python bench/run_all.py" + (" --quick" if args.quick else "") + "`)"]
    print("\n".join(header), flush=True)
    start = time.perf_counter()
    done = {b.name: run_one(b, args.quick) for b in sorted(chosen, key=lambda b: RUN_ORDER.index(b.name))}
    outcomes = [done[b.name] for b in chosen]
    elapsed = time.perf_counter() - start
    path = write_results(outcomes, header, elapsed)
    print("\n== summary ==\n" + summary(outcomes))
    print(f"\n{len(outcomes)} benchmark(s) in {elapsed / 60:.1f} min; "
          f"{', '.join(f'{o.bench.name} {o.seconds:.0f} s' for o in outcomes)}. Written: {path.relative_to(ROOT)}")
    return 0 if all(o.status == "ran" for o in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())

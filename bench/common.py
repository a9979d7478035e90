"""What every benchmark shares: running a process and reading its time and memory, running
cases interleaved, medians and ratios, tables, the machine they ran on, and the goal verdicts.

Benchmarks print figures; nothing here asserts. Tables are Markdown so that the same text
reads in a terminal and pastes into the README.
"""
from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
TOOLS = BENCH / ".tools"          # git-ignored scratch: Postfix tools, bytecode cache
RESULTS = BENCH / "results"       # git-ignored: latest.md
MJML = ROOT / "tools" / "node_modules" / ".bin" / "mjml"
SAMPLE_EDITION = "2026-11"


class Unavailable(Exception):
    """A benchmark cannot run here (a tool or a command is missing); the message says which."""


# --- processes -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Run:
    """One finished process: wall-clock seconds, CPU seconds (user + system) and peak resident
    memory in bytes, as the kernel accounted them for that process."""

    wall: float
    cpu: float
    max_rss: int


def python_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a `python -m newsletter` child: this checkout first on the path, and
    bytecode cached (in bench/.tools/pycache) as after `pip install`. Some sandboxes set
    PYTHONDONTWRITEBYTECODE, which would make every run recompile the package: a cost no
    user pays, so it is removed here."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(TOOLS / "pycache")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env.update(extra or {})
    return env


def newsletter_cmd(workspace: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "newsletter", "-C", str(workspace), *args]


def run_process(cmd: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path | None = None,
                timeout: float = 900, log: Path | None = None, check: bool = True) -> Run:
    """Run ``cmd`` to its end; its resource usage comes from wait4(), so it counts this process
    only (not the benchmark's own Python, nor a server running beside it)."""
    out = open(log, "wb") if log else subprocess.DEVNULL
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT if log else subprocess.DEVNULL)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _pid, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - start
    finally:
        if log:
            out.close()  # type: ignore[union-attr]
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen must not wait
    if check and proc.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
        raise RuntimeError(f"{' '.join(map(str, cmd[:6]))} ... exited with {proc.returncode}\n{tail}")
    # ru_maxrss is in kilobytes on Linux.
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024)


def interleaved(cases: dict[str, Callable[[], Run]], runs: int, warmup: int = 1,
                progress: Callable[[str], None] | None = None) -> dict[str, list[Run]]:
    """Run every case ``runs`` times, one of each per round, the order rotated every round, so
    that changes in the machine's load fall on all cases alike. Warm-up rounds (file cache,
    bytecode cache, JIT-less node start-up) are not counted."""
    names = list(cases)
    results: dict[str, list[Run]] = {name: [] for name in names}
    for round_no in range(warmup + runs):
        shift = round_no % len(names)
        for name in names[shift:] + names[:shift]:
            run = cases[name]()
            if round_no >= warmup:
                results[name].append(run)
        if progress:
            label = "warm-up" if round_no < warmup else f"round {round_no - warmup + 1}/{runs}"
            progress(label)
    return results


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def note(message: str) -> None:
    """Progress for the person waiting; stderr, so tables on stdout stay clean."""
    print(f"  . {message}", file=sys.stderr, flush=True)


# --- tables and verdicts -------------------------------------------------------------------

@dataclass
class Goal:
    text: str        # "newsletter build <= 1/3 of the MJML CLI's time"
    measured: str    # "0.31x"
    held: bool

    def line(self) -> str:
        return f"{'meets' if self.held else 'MISSES'} the goal: {self.text} (measured: {self.measured})"


@dataclass
class Report:
    """What one benchmark hands back: its title, a Markdown table, the goals and notes."""

    name: str
    title: str
    table: str = ""
    goals: list[Goal] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        parts = [f"### {self.title}", ""]
        if self.table:
            parts += [self.table, ""]
        parts += [f"- {goal.line()}" for goal in self.goals]
        parts += [f"- {n}" for n in self.notes]
        return "\n".join(parts).rstrip() + "\n"


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A Markdown table whose columns also line up in a terminal; numbers align right."""
    body = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in body)) for i, h in enumerate(header)]
    numeric = [all(_numeric(r[i]) for r in body) and bool(body) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.rjust(w) if num else c.ljust(w)
                                 for c, w, num in zip(cells, widths, numeric)) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if num else ("-" * (w + 2))
                          for w, num in zip(widths, numeric)) + "|"
    return "\n".join([line([str(h) for h in header]), rule, *(line(r) for r in body)])


def _numeric(cell: str) -> bool:
    return cell[:1].isdigit() or cell in ("", "-")


def seconds(value: float) -> str:
    return f"{value:.2f}" if value >= 0.1 else f"{value:.3f}"


def ratio(value: float, reference: float) -> str:
    return f"{value / reference:.2f}x"


def spread(values: Sequence[float], fmt: Callable[[float], str] = seconds) -> str:
    return f"{fmt(min(values))}-{fmt(max(values))}"


# --- the machine ---------------------------------------------------------------------------

def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return " ".join(line.split(":", 1)[1].split())
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_total() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return "RAM unknown"


def node_version() -> str:
    node = shutil.which("node")
    if not node:
        return "no Node.js"
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return "Node.js (version unknown)"
    return f"Node.js {out.strip().lstrip('v')}"


def machine() -> str:
    """One line: CPU model, cores, memory, OS, Python and Node versions."""
    return (f"{cpu_model()}, {os.cpu_count()} cores, {memory_total()}, "
            f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
            f"{node_version()}")


def load_average() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} (1 min), {five:.2f} (5 min)"

"""How long the preview takes to show a saved change (goal: refresh <= 100 ms, median).

Serves a copy of the sample workspace, opens an edition page (so its variant is the one
being looked at), then saves a changed edition number RUNS times and measures:
  refresh      re-reading the edition and rendering the viewed variant (Site.warm)
  save->event  from the file write until open pages are told to reload (inotify,
               watchfiles' grouping of a save's events, the refresh)
  page         the reloaded page and its email frame, answered from the cache
Run: python bench/bench_preview.py [--runs 15] [--edition 2026-11]
"""
from __future__ import annotations

import argparse
import http.client
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsletter.preview import PreviewServer  # noqa: E402

GOAL_MS = 100.0


def copy_sample(dest: Path) -> Path:
    for name in ("newsletter.yaml", "issues", "templates", "subscribers"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("*.sqlite3*", "secret.key"))
        elif src.exists():
            shutil.copy2(src, dest / name)
    return dest


def get(port: int, target: str) -> float:
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", target)
    resp = conn.getresponse()
    resp.read()
    conn.close()
    if resp.status != 200:
        raise SystemExit(f"GET {target}: HTTP {resp.status}")
    return time.perf_counter() - start


def fetch(port: int, target: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", target)
    body = conn.getresponse().read().decode("utf-8")
    conn.close()
    return body


def measure(ws: Path, edition: str, runs: int) -> dict[str, list[float]]:
    path = ws / "issues" / edition / "edition.yaml"
    original = path.read_text(encoding="utf-8")
    number = next(line for line in original.splitlines() if line.startswith("number:"))
    out: dict[str, list[float]] = {"refresh": [], "save->event": [], "page": []}
    with PreviewServer(ws, "127.0.0.1", 0) as server:
        page, frame = f"/e/{edition}/", f"/e/{edition}/email"
        get(server.port, page), get(server.port, frame)  # the variant being looked at
        for i in range(runs):
            seen = server.app.hub.generation
            start = time.perf_counter()
            path.write_text(original.replace(number, f"number: {1000 + i}", 1), encoding="utf-8")
            server.app.hub.wait(seen, timeout=10)
            out["save->event"].append(time.perf_counter() - start)
            out["refresh"].append(server.app.site.last_refresh_seconds or 0.0)
            out["page"].append(get(server.port, page) + get(server.port, frame))
            if f"Edition {1000 + i}" not in fetch(server.port, frame):
                raise SystemExit(f"run {i}: the refreshed email does not show the change")
            time.sleep(0.1)  # let the watcher settle: each run is one separate save
    return out


def report(results: dict[str, list[float]]) -> str:
    lines = [f"{'':12} {'median':>8} {'min':>8} {'max':>8}   (ms, {len(results['refresh'])} runs)"]
    for name, values in results.items():
        ms = [v * 1000 for v in values]
        lines.append(f"{name:12} {statistics.median(ms):8.1f} {min(ms):8.1f} {max(ms):8.1f}")
    median = statistics.median(results["refresh"]) * 1000
    verdict = "meets" if median <= GOAL_MS else "MISSES"
    lines.append(f"refresh median {median:.1f} ms {verdict} the goal of {GOAL_MS:.0f} ms")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--edition", default="2026-11")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        results = measure(copy_sample(Path(tmp)), args.edition, args.runs)
    print(f"bench_preview: edition {args.edition}")
    print(report(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

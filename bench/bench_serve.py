"""Serve: one-click unsubscribes (RFC 8058 POSTs) per second and their latency, with 50
concurrent clients against `newsletter serve` with one worker.

    python bench/bench_serve.py [--subscribers 6000] [--clients 50] [--requests 5000]

The server is the real command (`newsletter serve --workers 1`) in its own process on
127.0.0.1; the clients are 50 asyncio connections in this process speaking plain HTTP/1.1
with keep-alive (a light client, so that the figure is the server's, not the client's). Every
request unsubscribes a different subscriber (a real write: status, consent, history event), and
afterwards the database must show every one of them unsubscribed.
Goals: at least 500 unsubscribes/s, p99 latency at most 50 ms.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import data  # noqa: E402
from bench.common import Goal, Report, markdown_table, newsletter_cmd, python_env  # noqa: E402

SECRET = "bench-only-secret-key-0123456789abcdef"
GOAL_RATE = 500
GOAL_P99_MS = 50


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(ws: Path, port: int, log: Path) -> subprocess.Popen:
    env = python_env({"NEWSLETTER_SECRET_KEY": SECRET})
    proc = subprocess.Popen(newsletter_cmd(ws, "serve", "--port", str(port), "--workers", "1"), env=env,
                            stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
                if b" 200 " in s.recv(200):
                    return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"newsletter serve did not start (log: {log})")


async def client(port: int, paths: list[str], latencies: list[float], codes: list[int],
                 schedule: list[float] | None = None) -> None:
    """Sends its requests one after another on one keep-alive connection: as fast as the
    answers come (closed loop) or, with ``schedule``, each at its planned time (open loop;
    latency then counts from the planned time, so a slow answer that delays the next request
    is not hidden: no coordinated omission)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = b"List-Unsubscribe=One-Click"
    try:
        for n, path in enumerate(paths):
            request = (f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                       f"Content-Length: {len(body)}\r\n\r\n").encode() + body
            started = time.perf_counter()
            if schedule is not None:
                wait = schedule[n] - started
                if wait > 0:
                    await asyncio.sleep(wait)
                started = schedule[n]
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            codes.append(int(head.split(b" ", 2)[1]))
    finally:
        writer.close()


async def load(port: int, paths: list[str], clients: int,
               rate: float | None = None) -> tuple[float, list[float], list[int]]:
    """All ``paths`` over ``clients`` connections; with ``rate``, offered at that many per
    second in total (request i planned at i / rate)."""
    latencies: list[float] = []
    codes: list[int] = []
    shares = [paths[i::clients] for i in range(clients)]
    started = time.perf_counter() + 0.05
    plans = [[started + (k * clients + i) / rate for k in range(len(share))] if rate else None
             for i, share in enumerate(shares)]
    await asyncio.gather(*(client(port, share, latencies, codes, plan) for share, plan in zip(shares, plans)))
    return time.perf_counter() - started, latencies, codes


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> Report:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=11_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=5000)
    args = parser.parse_args(argv)
    os.environ["NEWSLETTER_SECRET_KEY"] = SECRET
    from newsletter.core import tokens
    from newsletter.core.config import load_workspace
    from newsletter.subscribers.store import Store

    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        ws_dir = data.workspace(Path(tmp) / "ws", args.subscribers)
        ws = load_workspace(ws_dir)
        with Store.open(ws) as store:
            ids = [s.stored_id for s in store.iter_segment("all")]
        warm = ids[:200]
        measured = ids[200:200 + args.requests]
        paced = ids[200 + args.requests:200 + 2 * args.requests]
        path = ws.settings.urls.unsubscribe.split("://", 1)[1].split("/", 1)[1]

        def paths(chosen: list[int]) -> list[str]:
            return [f"/{path}?token={tokens.make_token(SECRET.encode(), i, ws.settings.list_id, claim='1')}"
                    for i in chosen]

        port = free_port()
        server = start_server(ws_dir, port, Path(tmp) / "serve.log")
        try:
            asyncio.run(load(port, paths(warm), min(args.clients, len(warm))))
            wall, latencies, codes = asyncio.run(load(port, paths(measured), args.clients))
            paced_wall, paced_latencies, paced_codes = asyncio.run(load(port, paths(paced), args.clients, GOAL_RATE))
        finally:
            server.terminate()
            server.wait(30)
        with Store.open(ws) as store:
            everyone = warm + measured + paced
            done = sum(1 for i in everyone if not store.is_subscribed(i))
    rate = len(measured) / wall
    ms = lambda values, p: percentile(values, p) * 1000  # noqa: E731
    p99 = ms(paced_latencies, 99)
    table = markdown_table(
        ["load", "requests", "clients", "unsubscribes/s", "p50 ms", "p99 ms", "max ms", "answers 200"],
        [["as fast as answered", f"{len(measured):,}", str(args.clients), f"{rate:,.0f}",
          f"{ms(latencies, 50):.1f}", f"{ms(latencies, 99):.1f}", f"{max(latencies) * 1000:.1f}", f"{codes.count(200):,}"],
         [f"{GOAL_RATE}/s offered", f"{len(paced):,}", str(args.clients), f"{len(paced) / paced_wall:,.0f}",
          f"{ms(paced_latencies, 50):.1f}", f"{p99:.1f}", f"{max(paced_latencies) * 1000:.1f}", f"{paced_codes.count(200):,}"]])
    report = Report("serve", "serve: one-click unsubscribes, 50 concurrent clients, one worker", table)
    report.goals = [Goal(f"at least {GOAL_RATE} one-click unsubscribes/s", f"{rate:,.0f}/s", rate >= GOAL_RATE),
                    Goal(f"p99 latency at most {GOAL_P99_MS} ms at {GOAL_RATE}/s", f"{p99:.1f} ms", p99 <= GOAL_P99_MS)]
    report.notes.append("Closed loop (50 clients each waiting for its answer) gives the throughput; its "
                        f"latency is 50 / throughput by Little's law. The p99 goal is read at {GOAL_RATE}/s "
                        "offered by the same 50 clients, timed from each request's planned start.")
    if codes.count(200) + paced_codes.count(200) != len(measured) + len(paced) or done != len(everyone):
        report.notes.append("WRONG: not every request was answered 200 and recorded")
        report.goals.append(Goal("every unsubscribe answered and recorded", f"{done} of {len(everyone)}", False))
    return report


if __name__ == "__main__":
    print(main().text())

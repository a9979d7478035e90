"""Crashes and rivals: a campaign process killed with SIGKILL at random moments and resumed,
several times over; and two processes started on one campaign at once. The sender runs in a
subprocess (campaign_driver.py); the SMTP server (aiosmtpd) runs in the test process and
counts what arrives."""
from __future__ import annotations

import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from newsletter.campaign.journal import Journal
from newsletter.delivery.states import RecipientState

SENDING, SENT = RecipientState.SENDING, RecipientState.SENT

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")


def start(db: Path, port: int, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.campaign.campaign_driver", str(db), str(port), *args], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_start(proc: subprocess.Popen, timeout: float = 30) -> bool:
    """True once the driver says it has started sending; False if it ended first."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if lines.get(timeout=0.05).strip() == "started":
                return True
        except queue.Empty:
            if proc.poll() is not None:
                return False
    raise AssertionError("the campaign driver did not start sending in time")


def test_killed_at_random_moments_then_resumed(tmp_path, smtp_server):
    seed = int(os.environ.get("KILL_TEST_SEED", random.randrange(10**6)))
    rng = random.Random(seed)
    db, recipients, connections, kills = tmp_path / "journal.sqlite3", 240, 2, 5
    args = ("--recipients", str(recipients), "--connections", str(connections), "--rate", "120")
    killed_mid_run = 0
    for _ in range(kills):
        proc = start(db, smtp_server.port, *args)
        if wait_for_start(proc):
            time.sleep(rng.uniform(0, 0.3))
            killed_mid_run += proc.poll() is None
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert killed_mid_run >= 3, f"seed {seed}: the kills did not land while sending"

    final = start(db, smtp_server.port, *args)
    out, err = final.communicate(timeout=60)
    assert final.returncode in (0, 1), err
    rows = Journal(db).rows(1)
    received = smtp_server.handler.per_address()
    unknown = [r for r in rows if r.status == SENDING]

    assert len(rows) == recipients
    assert len(unknown) <= connections * kills, f"seed {seed}"
    assert max(received.values()) == 1, f"seed {seed}: someone got a message twice"
    for row in rows:
        assert row.status in (SENT, SENDING), (seed, row)
        if row.status == SENT:
            assert received.get(row.email) == 1, (seed, row)
    assert json.loads(out.splitlines()[-1])["unknown"] == [r.subscriber for r in unknown]
    assert final.returncode == (0 if not unknown else 1)

    # Resending the unknown reaches those whose message never arrived, and only them once.
    resend = start(db, smtp_server.port, *args, "--resend-unknown")
    resend.communicate(timeout=60)
    assert resend.returncode == 0
    after = smtp_server.handler.per_address()
    for row in unknown:
        assert after[row.email] == received.get(row.email, 0) + 1, (seed, row)
    assert {r.status for r in Journal(db).rows(1)} == {SENT}


def test_two_sends_of_one_campaign_at_once(tmp_path, smtp_server):
    db = tmp_path / "journal.sqlite3"
    # Started together; sending 200 at 50/s keeps the winner busy for four seconds, long
    # after the other has started, even on a slow, loaded machine.
    args = ("--recipients", "200", "--connections", "2", "--rate", "50")
    procs = [start(db, smtp_server.port, *args) for _ in range(2)]
    results = [(p.wait(timeout=60), p.stdout.read(), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _, _ in results)
    if codes != [0, 3]:
        print(*(f"exit {code}\nstdout:\n{out}\nstderr:\n{err}" for code, out, err in results), sep="\n")
    assert codes == [0, 3], "see the captured output for each process's exit code and output"
    refused = next(err for code, _, err in results if code == 3)
    assert "campaign 1 is being sent by another process" in refused
    assert smtp_server.handler.per_address() == {f"reader{i}@example.org": 1 for i in range(1, 201)}
    assert len(Journal(db).campaigns()) == 1

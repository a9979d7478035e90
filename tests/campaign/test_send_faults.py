"""`newsletter send` under faults, as an editor or a service manager meets them: the real CLI
in a subprocess (or in-process where a fault is injected), a copy of the sample workspace and
real aiosmtpd servers on loopback."""
from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import main
from newsletter.delivery.states import RecipientState as State
from newsletter.subscribers.store import Store
from newsletter.core.config import load_workspace
from tests.campaign.sending import cli, db_path, env_for, journal_rows, make_workspace, wait_for

SMTP = ("--adapter", "smtp", "--yes")


def arrived(server, address: str) -> bool:
    return server.handler.count(address) > 0


# 9. Signals ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_stops_the_send_cleanly_and_a_rerun_completes(sample_ws: Path, smtp_server, sig, code) -> None:
    emails = make_workspace(sample_ws, 60)
    args = ("-s", "all", *SMTP, "--rate", "20", "--connections", "2")
    proc = cli(sample_ws, smtp_server.port, *args)
    wait_for(lambda: len(smtp_server.handler.messages) >= 5, what="the first messages")
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, (out, err)
    assert f"STOPPED by {sig.name}" in out and "Run the same command again to resume" in out
    assert "sent " in out and "Traceback" not in err
    rows = journal_rows(sample_ws)
    assert sum(r.status is State.SENDING for r in rows) <= 2
    assert any(r.status is State.PENDING for r in rows), "it stopped before the end"
    with sqlite3.connect(db_path(sample_ws)) as conn:
        assert conn.execute("SELECT lease_owner FROM campaigns").fetchone()[0] is None
    again = cli(sample_ws, smtp_server.port, *args[:-4], "--rate", "200")
    out2, err2 = again.communicate(timeout=120)
    assert again.returncode == 0, (out2, err2)
    assert smtp_server.handler.per_address() == {e: 1 for e in emails}


# 5. and 6. The last check before hand-over --------------------------------------------------------------

def test_an_unsubscribe_during_a_slow_send_is_honoured(sample_ws: Path, smtp_server) -> None:
    emails = make_workspace(sample_ws, 4)
    proc = cli(sample_ws, smtp_server.port, "-s", "all", *SMTP, "--rate", "0.5")
    wait_for(lambda: arrived(smtp_server, emails[1]), what="the second message")
    # The third recipient's turn is two seconds away; they unsubscribe now.
    result = CliRunner().invoke(main, ["-C", str(sample_ws), "subscribers", "unsubscribe", emails[2]])
    assert result.exit_code == 0, result.output
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, (out, err)
    assert smtp_server.handler.per_address() == {emails[0]: 1, emails[1]: 1, emails[3]: 1}
    assert {r.email: r.status for r in journal_rows(sample_ws)}[emails[2]] is State.SKIPPED


def test_a_language_change_mid_send_gets_the_new_language(sample_ws: Path, smtp_server) -> None:
    emails = make_workspace(sample_ws, 4)          # en, de, es, en
    proc = cli(sample_ws, smtp_server.port, "-s", "all", *SMTP, "--rate", "0.5")
    wait_for(lambda: arrived(smtp_server, emails[1]), what="the second message")
    ws = load_workspace(sample_ws)
    with Store.open(ws) as store, store.transaction():
        store._conn.execute("UPDATE subscribers SET language = 'de' WHERE email = ?", (emails[2],))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, (out, err)
    message = next(m for m in smtp_server.handler.messages if emails[2] in m.rcpt_tos)
    html = message.message.get_body(("html",)).get_content()
    assert 'lang="de"' in html
    assert {r.email: r.variant for r in journal_rows(sample_ws)}[emails[2]] == "de"


# 8. One edition, two segments -------------------------------------------------------------------------

def test_one_edition_to_two_overlapping_segments_reaches_each_person_once(sample_ws: Path, smtp_server) -> None:
    emails = make_workspace(sample_ws, 9)
    german = [e for i, e in enumerate(emails) if i % 3 == 1]
    first = cli(sample_ws, smtp_server.port, "-s", "german", *SMTP)
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, (out, err)
    # A rehearsal through the outbox does not count as received.
    rehearsal = cli(sample_ws, smtp_server.port, "-s", "all", "--adapter", "outbox", "--yes")
    out, err = rehearsal.communicate(timeout=60)
    assert rehearsal.returncode == 0 and "sent 9" in out, (out, err)

    dry = cli(sample_ws, smtp_server.port, "-s", "all", "--adapter", "smtp", "--dry-run")
    out, err = dry.communicate(timeout=60)
    assert dry.returncode == 0, err
    assert "already received 2026-11 from another campaign: 3" in out and "to send now: 6" in out

    second = cli(sample_ws, smtp_server.port, "-s", "all", *SMTP)
    out, err = second.communicate(timeout=60)
    assert second.returncode == 0, (out, err)
    assert "sent 6" in out and "skipped 3" in out
    assert smtp_server.handler.per_address() == {e: 1 for e in emails}

    again = cli(sample_ws, smtp_server.port, "-s", "german", *SMTP, "--again")
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0, (out, err)
    assert smtp_server.handler.per_address() == {e: (2 if e in german else 1) for e in emails}


def test_two_segments_sent_at_once_never_both_reach_one_person(sample_ws: Path, smtp_server) -> None:
    emails = make_workspace(sample_ws, 60)
    procs = [cli(sample_ws, smtp_server.port, "-s", segment, *SMTP, "--rate", "40", "--connections", "2")
             for segment in ("all", "german")]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, (out, err)
    assert smtp_server.handler.per_address() == {e: 1 for e in emails}


# 4. Resume that always works -----------------------------------------------------------------------------

def test_resend_unknown_works_when_only_unknowns_are_left(sample_ws: Path, smtp_server) -> None:
    emails = make_workspace(sample_ws, 4)
    smtp_server.handler.drop_after_data = {emails[2]}
    first = cli(sample_ws, smtp_server.port, "-s", "all", *SMTP, "--connections", "2")
    out, err = first.communicate(timeout=60)
    assert first.returncode == 1 and "1 recipient(s) unknown" in out, (out, err)

    rerun = cli(sample_ws, smtp_server.port, "-s", "all", *SMTP)
    out, err = rerun.communicate(timeout=60)
    assert "Nothing left to send" in out and "--resend-unknown" in out, (out, err)

    resend = cli(sample_ws, smtp_server.port, "-s", "all", *SMTP, "--resend-unknown")
    out, err = resend.communicate(timeout=60)
    assert resend.returncode == 0 and "to send now: 1" in out and "sent 1" in out, (out, err)
    assert {r.status for r in journal_rows(sample_ws)} == {State.SENT}


def test_someone_who_joined_after_a_finished_send_is_counted_and_sent(sample_ws: Path, smtp_server) -> None:
    emails = make_workspace(sample_ws, 3)
    first = cli(sample_ws, smtp_server.port, "-s", "all", *SMTP)
    assert first.wait(timeout=60) == 0
    CliRunner().invoke(main, ["-C", str(sample_ws), "subscribers", "unsubscribe", emails[0]])
    joined = make_workspace(sample_ws, 1, start=10)
    rerun = cli(sample_ws, smtp_server.port, "-s", "all", *SMTP)
    out, err = rerun.communicate(timeout=60)
    assert rerun.returncode == 0 and "to send now: 1" in out and "sent 1" in out, (out, err)
    assert smtp_server.handler.per_address() == {e: 1 for e in emails + joined}


# 7. Database faults ------------------------------------------------------------------------------------

def test_a_database_held_by_another_process_exits_3_without_a_traceback(sample_ws: Path, smtp_server) -> None:
    make_workspace(sample_ws, 3)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sqlite3, sys, time\n"
        f"c = sqlite3.connect({str(db_path(sample_ws))!r}, isolation_level=None)\n"
        "c.execute('BEGIN EXCLUSIVE'); print('held', flush=True); time.sleep(25)")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        proc = cli(sample_ws, smtp_server.port, "-s", "all", *SMTP)
        out, err = proc.communicate(timeout=60)
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode == 3, (out, err)
    assert "locked" in err and "Traceback" not in err and "Error:" in err
    assert smtp_server.handler.messages == []


def test_a_damaged_database_names_the_file_and_the_recovery(sample_ws: Path, smtp_server) -> None:
    make_workspace(sample_ws, 3)
    path = db_path(sample_ws)
    for extra in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        extra.unlink(missing_ok=True)
    data = bytearray(path.read_bytes())
    data[:100] = b"\x13" * 100          # the header: SQLite no longer knows the file
    path.write_bytes(bytes(data))
    proc = cli(sample_ws, smtp_server.port, "-s", "all", *SMTP)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, (out, err)
    assert "Traceback" not in err and str(path.name) in err and ".recover" in err and "backup" in err


FULL_DISK = """
import sqlite3, sys

class FullDisk(sqlite3.Connection):
    # Commits fail as SQLite's do on a full disk once ten recipients were claimed.
    claims = 0

    def execute(self, sql, *args):
        if FullDisk.claims >= 10 and sql.strip().upper() == "COMMIT":
            raise sqlite3.OperationalError("database or disk is full")
        if "SET status = 'sending'" in sql:
            FullDisk.claims += 1
        return super().execute(sql, *args)

real = sqlite3.connect
sqlite3.connect = lambda *a, **kw: real(*a, factory=FullDisk, **kw)
from newsletter.cli import main
sys.argv[0] = "newsletter"
main()
"""


def test_a_full_disk_stops_with_a_clear_error_and_a_resume_completes(sample_ws: Path, smtp_server, tmp_path) -> None:
    emails = make_workspace(sample_ws, 30)
    (tmp_path / "full_disk.py").write_text(FULL_DISK)
    full = subprocess.run([sys.executable, str(tmp_path / "full_disk.py"), "-C", str(sample_ws), "send", "2026-11",
                           "-s", "all", *SMTP, "--skip-publish-check"], env=env_for(smtp_server.port), capture_output=True, text=True,
                          timeout=120)
    assert full.returncode == 1, (full.stdout, full.stderr)
    said = full.stdout + full.stderr
    assert "disk" in said and "is full" in said and "Traceback" not in said
    assert 9 <= len(smtp_server.handler.per_address()) < 30

    resume = cli(sample_ws, smtp_server.port, "-s", "all", *SMTP)
    out, err = resume.communicate(timeout=120)
    rows = journal_rows(sample_ws)
    unknown = {r.email for r in rows if r.status is State.SENDING}
    assert resume.returncode == (1 if unknown else 0), (out, err)
    assert len(unknown) <= 2, "at most one message in hand per connection"
    assert {r.status for r in rows} <= {State.SENT, State.SENDING}
    # Nothing lost, nobody twice: everyone got it once, the unknown ones included (the disk
    # filled after their message had gone out).
    assert smtp_server.handler.per_address() == {e: 1 for e in emails}

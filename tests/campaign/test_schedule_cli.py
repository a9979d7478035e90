"""Scheduled sends as an editor and cron run them: `newsletter send EDITION --at`, `newsletter
schedule [cancel|release]` and `newsletter send --due`, the real CLI in subprocesses against a
real aiosmtpd server, with the clock injected through NEWSLETTER_TEST_NOW (for tests only)."""
from __future__ import annotations

import datetime as dt
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from newsletter.campaign.schedule import Schedules
from tests.campaign.sending import db_path, env_for, make_workspace, wait_for
from tests.support.workspaces import edit_edition

BEFORE = "2026-12-02T12:00:00Z"      # the day before
ON_TIME = "2026-12-03T08:01:00Z"     # a minute after 09:00 Berlin (CET, UTC+1)
LATE = "2026-12-03T10:30:00Z"        # beyond the default grace period of 60 minutes
AT = "2026-12-03 09:00 Europe/Berlin"


def run(ws: Path, now: str, *args: str, port: int = 0, **env: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "newsletter", "-C", str(ws), *args],
                            env=env_for(port, NEWSLETTER_TEST_NOW=now, **env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def done(ws: Path, now: str, *args: str, port: int = 0, **env: str) -> tuple[int, str, str]:
    proc = run(ws, now, *args, port=port, **env)
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def schedule(ws: Path, *extra: str, edition: str = "2026-11", at: str = AT) -> int:
    code, out, err = done(ws, BEFORE, "send", edition, "--segment", "all", "--adapter", "smtp",
                          "--skip-publish-check", "--at", at, *extra)
    assert code == 0, (out, err)
    return int(out.split("Scheduled send ")[1].split(":")[0])


def states(ws: Path) -> dict[int, tuple[str, str | None]]:
    with Schedules(db_path(ws)) as schedules:
        return {s.id: (s.status, s.note) for s in schedules.all(include_done=True)}


def test_at_needs_an_explicit_time_zone_and_a_time_to_come(sample_ws: Path) -> None:
    make_workspace(sample_ws, 3)
    code, _out, err = done(sample_ws, BEFORE, "send", "2026-11", "-s", "all", "--at", "2026-12-03 09:00")
    assert code == 2 and "the time zone is missing" in err and "Europe/Berlin" in err
    code, _out, err = done(sample_ws, BEFORE, "send", "2026-11", "-s", "all", "--at", "2026-10-25 02:30 Europe/Berlin")
    assert code == 2 and "happens twice in Europe/Berlin" in err and "+02:00" in err
    code, _out, err = done(sample_ws, BEFORE, "send", "2026-11", "-s", "all", "--at", "2027-03-28 02:30 Europe/Berlin")
    assert code == 2 and "does not exist in Europe/Berlin" in err
    code, _out, err = done(sample_ws, BEFORE, "send", "2026-11", "-s", "all", "--at", "2026-12-01 09:00 Europe/Berlin")
    assert code == 1 and "Error: 2026-12-01 09:00 CET is in the past" in err
    code, _out, err = done(sample_ws, BEFORE, "send", "2026-11", "-s", "all", "--at", AT, "--test", "me@example.org")
    assert code == 2 and "--test sends now" in err
    code, _out, err = done(sample_ws, BEFORE, "send", "--due", "2026-11")
    assert code == 2 and "it takes no EDITION" in err
    code, _out, err = done(sample_ws, BEFORE, "send", "2026-11")
    assert code == 2 and "name the EDITION and a --segment" in err
    assert states(sample_ws) == {}


@pytest.mark.parametrize("extra, named", [(("--lang", "de"), "--lang"), (("--adapter", "smtp"), "--adapter"),
                                          (("--rate", "5"), "--rate"), (("--again",), "--again")])
def test_due_refuses_send_options_it_would_ignore(sample_ws: Path, extra: tuple[str, ...], named: str) -> None:
    # Each scheduled send keeps its own; `send --due --lang de` must not look like a German-only run.
    code, _out, err = done(sample_ws, BEFORE, "send", "--due", *extra)
    assert code == 2 and f"it takes no {named}" in err, err


def test_dry_run_records_nothing_and_a_real_one_lists_and_cancels(sample_ws: Path) -> None:
    make_workspace(sample_ws, 6)
    code, out, err = done(sample_ws, BEFORE, "send", "2026-11", "-s", "all", "--at", AT, "--dry-run")
    assert code == 0, err
    assert "segment 'all' has 6 recipient(s) now (by language: de 2, en 2, es 2)" in out
    assert "Thu 03 Dec 2026 09:00 CET (Europe/Berlin) = 08:00 UTC" in out and "Nothing was recorded" in out
    assert states(sample_ws) == {}
    first = schedule(sample_ws, "--rate", "5", "--again")
    second = schedule(sample_ws, edition="2026-10", at="2026-12-04 09:00 +01:00 Europe/Berlin")
    with Schedules(db_path(sample_ws)) as schedules:
        assert schedules.get(first).options == {"again": True, "rate": 5.0, "skip_publish_check": True}
    code, out, _err = done(sample_ws, BEFORE, "schedule")
    assert code == 0
    lines = out.splitlines()
    assert lines[1].split()[:2] == [str(first), "scheduled"] and "= 08:00 UTC  2026-11 --segment all via smtp" in lines[1]
    assert lines[2].startswith(f"   {second}  scheduled  Fri 04 Dec 2026 09:00 CET (Europe/Berlin)")
    code, out, _err = done(sample_ws, BEFORE, "schedule", "cancel", str(second))
    assert code == 0 and "cancelled" in out
    code, _out, err = done(sample_ws, BEFORE, "schedule", "cancel", str(second))
    assert code == 1 and "is cancelled; only a scheduled, held or failed one can be cancelled" in err
    code, out, _err = done(sample_ws, BEFORE, "schedule")
    assert f"   {second}  " not in out and f"   {first}  " in out
    assert f"   {second}  cancelled" in done(sample_ws, BEFORE, "schedule", "--all")[1]


def test_an_edition_with_errors_is_not_scheduled(sample_ws: Path) -> None:
    make_workspace(sample_ws, 3)
    edition = sample_ws / "issues" / "2026-11" / "edition.yaml"
    edition.write_text(edition.read_text(encoding="utf-8").replace("number: 14", "number: fourteen"), encoding="utf-8")
    code, _out, err = done(sample_ws, BEFORE, "send", "2026-11", "-s", "all", "--at", AT)
    assert code == 1 and "edition.yaml:3" in err
    assert states(sample_ws) == {}


def test_due_sends_at_its_time_not_before(sample_ws: Path, smtp_server) -> None:
    emails = make_workspace(sample_ws, 9)
    ident = schedule(sample_ws)
    dropped = schedule(sample_ws, edition="2026-10")
    assert done(sample_ws, BEFORE, "schedule", "cancel", str(dropped))[0] == 0
    code, out, err = done(sample_ws, "2026-12-03T07:59:00Z", "send", "--due", port=smtp_server.port)
    assert (code, out) == (0, ""), err   # nothing due: silent, so cron mails nothing
    assert smtp_server.handler.messages == []
    code, out, err = done(sample_ws, ON_TIME, "send", "--due", port=smtp_server.port)
    assert code == 0, (out, err)
    assert smtp_server.handler.per_address() == {e: 1 for e in emails}
    assert states(sample_ws)[ident] == ("sent", "campaign 1: sent 9")
    assert states(sample_ws)[dropped][0] == "cancelled"
    assert "send --due: 1 sent" in out and "2026-10" not in out
    # Again: nothing is due any more, nobody gets anything twice.
    assert done(sample_ws, ON_TIME, "send", "--due", port=smtp_server.port)[0] == 0
    assert smtp_server.handler.per_address() == {e: 1 for e in emails}


def test_missed_beyond_the_grace_period_is_held_then_released(sample_ws: Path, smtp_server) -> None:
    emails = make_workspace(sample_ws, 6)
    ident = schedule(sample_ws)
    code, out, err = done(sample_ws, LATE, "send", "--due", port=smtp_server.port)
    assert code == 1, (out, err)
    assert f"HELD, not started within 60 minutes of its time; `newsletter schedule release {ident}` sends it" in out
    assert smtp_server.handler.messages == []
    assert states(sample_ws)[ident][0] == "held"
    # Held stays held: later runs do not send it either.
    assert done(sample_ws, LATE, "send", "--due", port=smtp_server.port)[0] == 0
    code, _out, err = done(sample_ws, LATE, "schedule", "release", str(ident), port=smtp_server.port)
    assert code == 2 and "pass --yes" in err
    assert smtp_server.handler.messages == []
    code, out, err = done(sample_ws, LATE, "schedule", "release", str(ident), "--yes", port=smtp_server.port)
    assert code == 0, (out, err)
    assert smtp_server.handler.per_address() == {e: 1 for e in emails}
    assert states(sample_ws)[ident][0] == "sent"


def test_the_grace_period_is_a_setting(sample_ws: Path, smtp_server) -> None:
    make_workspace(sample_ws, 3)
    schedule(sample_ws)
    code, out, err = done(sample_ws, LATE, "send", "--due", port=smtp_server.port,
                          NEWSLETTER_SCHEDULE__GRACE_MINUTES="180")
    assert code == 0, (out, err)
    assert len(smtp_server.handler.messages) == 3
    settings = sample_ws / "newsletter.yaml"
    settings.write_text(settings.read_text(encoding="utf-8") + "schedule:\n  grace_minutes: 0\n", encoding="utf-8")
    code, _out, err = done(sample_ws, LATE, "schedule")
    assert code == 1 and "newsletter.yaml:" in err and "grace_minutes" in err


def test_an_edition_broken_since_scheduling_is_not_sent(sample_ws: Path, smtp_server) -> None:
    emails = make_workspace(sample_ws, 3)
    ident = schedule(sample_ws)
    edition = sample_ws / "issues" / "2026-11" / "edition.yaml"
    text = edition.read_text(encoding="utf-8")
    edition.write_text(text.replace("number: 14", "number: fourteen"), encoding="utf-8")
    code, out, err = done(sample_ws, ON_TIME, "send", "--due", port=smtp_server.port)
    assert code == 1, (out, err)
    assert "edition.yaml:3" in err
    status, note = states(sample_ws)[ident]
    assert status == "failed" and note.startswith("not sent: the edition no longer checks")
    # The listing says why, not only how many: the editor reads it long after cron's mail.
    assert "edition.yaml:3" in note and "number" in note, note
    assert smtp_server.handler.messages == []
    edition.write_text(text, encoding="utf-8")
    code, out, err = done(sample_ws, LATE, "schedule", "release", str(ident), "--yes", port=smtp_server.port)
    assert code == 0, (out, err)
    assert smtp_server.handler.per_address() == {e: 1 for e in emails}


def test_two_due_runs_at_once_send_each_campaign_once(sample_ws: Path, smtp_server) -> None:
    emails = make_workspace(sample_ws, 40)
    # At 40 a second each send takes about a second: long enough for the runs to overlap.
    ids = [schedule(sample_ws, "--rate", "40", edition=e) for e in ("2026-10", "2026-11")]
    procs = [run(sample_ws, ON_TIME, "send", "--due", port=smtp_server.port) for _ in range(2)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    assert [code for code, _, _ in results] == [0, 0], results
    per_message = Counter((m.rcpt_tos[0], m.message["Subject"]) for m in smtp_server.handler.messages)
    assert len(per_message) == 2 * len(emails) and set(per_message.values()) == {1}
    assert {e for e, _ in per_message} == set(emails)
    assert [states(sample_ws)[i][0] for i in ids] == ["sent", "sent"]
    assert sum("send --due: " in out for _, out, _ in results) >= 1


def test_a_due_send_stopped_by_sigterm_is_resumed_by_the_next_run(sample_ws: Path, smtp_server) -> None:
    emails = make_workspace(sample_ws, 90)
    ident = schedule(sample_ws, "--rate", "30")
    proc = run(sample_ws, ON_TIME, "send", "--due", port=smtp_server.port)
    wait_for(lambda: len(smtp_server.handler.messages) >= 5, what="the first messages")
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, (out, err)
    assert 5 <= len(smtp_server.handler.messages) < len(emails)
    status, note = states(sample_ws)[ident]
    assert status == "sending" and "the next `newsletter send --due` resumes it" in note
    code, out, err = done(sample_ws, ON_TIME, "send", "--due", port=smtp_server.port)
    assert code == 0, (out, err)
    assert "resuming" in out
    assert smtp_server.handler.per_address() == {e: 1 for e in emails}
    assert states(sample_ws)[ident][0] == "sent"


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")
def test_a_due_send_killed_outright_is_resumed_too(sample_ws: Path, smtp_server) -> None:
    emails = make_workspace(sample_ws, 60)
    ident = schedule(sample_ws, "--rate", "30")
    proc = run(sample_ws, ON_TIME, "send", "--due", port=smtp_server.port)
    wait_for(lambda: len(smtp_server.handler.messages) >= 3, what="the first messages")
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert states(sample_ws)[ident][0] == "sending"
    time.sleep(0.1)
    code, out, err = done(sample_ws, ON_TIME, "send", "--due", port=smtp_server.port)
    assert code == 1 or code == 0, (out, err)
    received = smtp_server.handler.per_address()
    assert max(received.values()) == 1
    # Only the messages in hand at the kill (one per connection at most) are unknown, left in
    # the journal as "sending" and not resent unasked; everyone else got it exactly once.
    with sqlite3.connect(db_path(sample_ws)) as conn:
        unknown = {row[0] for row in conn.execute(
            "SELECT email FROM campaign_recipients WHERE status = 'sending'")}
    assert len(unknown) <= 2    # delivery.connections in the sample workspace
    assert set(received) | unknown == set(emails)


def test_due_while_the_campaign_is_sent_by_hand_is_locked_then_resumed(sample_ws: Path, smtp_server) -> None:
    emails = make_workspace(sample_ws, 120)
    ident = schedule(sample_ws)
    by_hand = run(sample_ws, ON_TIME, "send", "2026-11", "-s", "all", "--adapter", "smtp", "--yes", "--rate", "30",
                  "--skip-publish-check", port=smtp_server.port)
    wait_for(lambda: len(smtp_server.handler.messages) >= 3, what="the send by hand to start")
    code, out, err = done(sample_ws, ON_TIME, "send", "--due", port=smtp_server.port)
    assert code == 3, (out, err)
    assert "being sent by another process" in err and "send --due: 1 locked" in out
    status, note = states(sample_ws)[ident]
    assert status == "sending" and "the next `newsletter send --due` resumes it" in note
    assert by_hand.wait(timeout=120) == 0
    code, out, err = done(sample_ws, ON_TIME, "send", "--due", port=smtp_server.port)
    assert code == 0, (out, err)
    assert "Nothing left to send" in out
    assert states(sample_ws)[ident] == ("sent", "campaign 1: sent 120")
    assert smtp_server.handler.per_address() == {e: 1 for e in emails}


@pytest.mark.parametrize("at, fires", [
    ("2027-03-29 09:00 Europe/Berlin", "2027-03-29T07:00:00Z"),   # the day after clocks go forward
    ("2026-10-26 09:00 Europe/Berlin", "2026-10-26T08:00:00Z"),   # the day after clocks go back
])
def test_nine_oclock_the_day_after_a_change_fires_at_the_right_utc_hour(sample_ws: Path, smtp_server, at: str,
                                                                       fires: str) -> None:
    emails = make_workspace(sample_ws, 3)
    code, out, err = done(sample_ws, "2026-10-20T12:00:00Z", "send", "2026-11", "--segment", "all", "--adapter",
                          "smtp", "--skip-publish-check", "--at", at)
    assert code == 0, (out, err)
    assert f"= {fires[11:16]} UTC" in out
    moment = dt.datetime.fromisoformat(fires.replace("Z", "+00:00"))
    early = (moment - dt.timedelta(seconds=1)).isoformat()
    assert done(sample_ws, early, "send", "--due", port=smtp_server.port)[0] == 0
    assert smtp_server.handler.messages == []
    code, out, err = done(sample_ws, moment.isoformat(), "send", "--due", port=smtp_server.port)
    assert code == 0, (out, err)
    assert smtp_server.handler.per_address() == {e: 1 for e in emails}


def test_due_dry_run_shows_what_would_be_sent_and_held_and_changes_nothing(sample_ws: Path, smtp_server) -> None:
    make_workspace(sample_ws, 3)
    on_time = schedule(sample_ws)
    missed = schedule(sample_ws, edition="2026-10", at="2026-12-03 07:00 Europe/Berlin")
    code, out, err = done(sample_ws, ON_TIME, "send", "--due", "--dry-run", port=smtp_server.port)
    assert code == 0, (out, err)
    assert f"Scheduled send {missed}: 2026-10 --segment all via smtp" in out
    assert "would be HELD (not started within 60 minutes of its time)" in out
    assert f"Scheduled send {on_time}: 2026-11 --segment all via smtp" in out and "would be sent" in out
    assert "to send now: 3" in out and "Dry run: nothing was claimed, sent or held." in out
    assert smtp_server.handler.messages == []
    assert {s for s, _ in states(sample_ws).values()} == {"scheduled"}


def test_a_language_changed_since_its_approval_holds_the_send_until_approved_and_released(
        sample_ws: Path, smtp_server) -> None:
    emails = make_workspace(sample_ws, 6)
    ident = schedule(sample_ws)
    edit_edition(sample_ws, "2026-11", "de: \"Neues im November:", "de: \"Neu im November:", count=-1)
    code, out, err = done(sample_ws, ON_TIME, "send", "--due", port=smtp_server.port)
    assert code == 1, (out, err)
    assert "newsletter approve 2026-11 --lang de" in err
    status, note = states(sample_ws)[ident]
    assert status == "held" and note.startswith("not sent: de: changed since it was approved by sample")
    assert f"`newsletter schedule release {ident}` sends it" in note
    assert smtp_server.handler.messages == []
    assert done(sample_ws, ON_TIME, "approve", "2026-11", "--lang", "de", "--by", "Rosa")[0] == 0
    code, out, err = done(sample_ws, LATE, "schedule", "release", str(ident), "--yes", port=smtp_server.port)
    assert code == 0, (out, err)
    assert smtp_server.handler.per_address() == {e: 1 for e in emails}


def test_waves_scheduled_apart_reach_everyone_once(sample_ws: Path, smtp_server) -> None:
    emails = make_workspace(sample_ws, 9)
    first = schedule(sample_ws, "--lang", "en,de")
    second = schedule(sample_ws, "--lang", "es", at="2026-12-03 12:00 Europe/Berlin")
    listing = done(sample_ws, BEFORE, "schedule")[1]
    assert "2026-11 --segment all --lang en,de via smtp" in listing and "--lang es via smtp" in listing
    assert done(sample_ws, ON_TIME, "send", "--due", port=smtp_server.port)[0] == 0
    spanish = {e for i, e in enumerate(emails) if i % 3 == 2}
    assert set(smtp_server.handler.per_address()) == set(emails) - spanish
    code, out, err = done(sample_ws, "2026-12-03T11:00:00Z", "send", "--due", port=smtp_server.port)
    assert code == 0, (out, err)
    assert smtp_server.handler.per_address() == {e: 1 for e in emails}
    assert [states(sample_ws)[i][0] for i in (first, second)] == ["sent", "sent"]

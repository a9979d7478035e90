"""The reply table (delivery.replies): one test per row, with real replies as servers send
them, plus DSN status codes through the same table."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from newsletter.delivery.replies import Verdict, classify, classify_status
from newsletter.delivery.states import RecipientState

ROOT = Path(__file__).resolve().parents[2]
V = Verdict

# (row, code, reply, stage, verdict): at least one example per row of the table.
EXAMPLES = [
    (1, 250, "250 2.0.0 OK queued as 4Xyz", "data", V.DELIVERED),
    (1, 251, "251 User not local; will forward", "rcpt", V.DELIVERED),
    (2, 421, "421 4.7.0 Try again later, closing connection", "rcpt", V.SERVER_BUSY),
    (2, 421, "421 4.3.2 Service shutting down", "data", V.SERVER_BUSY),
    (3, 451, "451 4.3.0 Mail server temporarily rejected message", "mail", V.SERVER_BUSY),
    (3, 454, "454 4.7.0 TLS not available due to local problem", "starttls", V.SERVER_BUSY),
    (4, 530, "530 5.7.0 Must issue a STARTTLS command first", "mail", V.SESSION_REFUSED),
    (4, 553, "553 5.1.8 Sender address rejected: Domain not found", "mail", V.SESSION_REFUSED),
    (4, 554, "554 5.7.1 Sender blocked", "connect", V.SESSION_REFUSED),
    (4, 535, "535 5.7.8 Authentication credentials invalid", "auth", V.SESSION_REFUSED),
    (5, 530, "530 Authentication required", "rcpt", V.SESSION_REFUSED),
    (6, 550, "550 5.1.7 Invalid address of the sender", "rcpt", V.SESSION_REFUSED),
    (8, 452, "452 4.5.3 Too many recipients", "rcpt", V.SERVER_BUSY),
    (8, 452, "452 Insufficient system storage", "rcpt", V.SERVER_BUSY),
    (8, 451, "451 4.5.3 Too many recipients this hour", "rcpt", V.SERVER_BUSY),
    (7, 552, "552 5.2.2 Mailbox full", "rcpt", V.TEMPORARY),
    (7, 552, "552 Requested mail action aborted: exceeded storage allocation", "rcpt", V.TEMPORARY),
    (7, 452, "452 4.2.2 Mailbox full", "data", V.TEMPORARY),
    (9, 451, "451 4.7.1 Greylisted, please try again later", "rcpt", V.TEMPORARY),
    (9, 450, "450 Requested mail action not taken: mailbox unavailable", "rcpt", V.TEMPORARY),
    (10, 550, "550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown", "rcpt", V.HARD_BOUNCE),
    (10, 550, "550 5.1.2 Host unknown", "data", V.HARD_BOUNCE),
    (11, 554, "554 5.7.1 <reader@example.org>: Relay access denied", "rcpt", V.FAILED),
    (11, 550, "550 5.7.1 Message rejected as spam", "data", V.FAILED),
    (11, 554, "554 5.3.4 Message too big for system", "data", V.FAILED),
    (11, 550, "550 5.4.1 Recipient address rejected: Access denied", "rcpt", V.FAILED),
    (11, 552, "552 5.2.3 Message length exceeds administrative limit", "data", V.FAILED),
    (11, 554, "554 5.6.0 Message content rejected", "data", V.FAILED),
    (12, 550, "550 Requested action not taken: mailbox unavailable", "rcpt", V.HARD_BOUNCE),
    (12, 553, "553 Requested action not taken: mailbox name not allowed", "rcpt", V.HARD_BOUNCE),
    (13, 554, "554 Transaction failed", "rcpt", V.FAILED),
    (13, 550, "550 Requested action not taken", "data", V.FAILED),
]


@pytest.mark.parametrize("row, code, reply, stage, verdict", EXAMPLES,
                         ids=[f"row{e[0]}-{e[1]}-{e[3]}" for e in EXAMPLES])
def test_each_row_of_the_table(row, code, reply, stage, verdict):
    reading = classify(code, reply, stage)
    assert (reading.row, reading.verdict) == (row, verdict)


def test_every_row_has_an_example_and_the_readme_shows_the_table():
    table = _table(ROOT / "newsletter" / "delivery" / "replies.py")
    assert sorted({e[0] for e in EXAMPLES}) == list(range(1, len(table) + 1))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for number, (reply, verdict) in table.items():
        assert re.search(rf"\|\s*{number}\s*\|\s*{re.escape(reply)}\s*\|\s*{re.escape(verdict)}\s*\|", readme), \
            f"README.md lacks row {number} of the reply table: {reply} -> {verdict}"
    assert {v for _, v in table.values()} == {str(v) for v in Verdict}


def _table(path: Path) -> dict[int, tuple[str, str]]:
    """The rows of the table in the module's documentation: number -> (reply, verdict)."""
    rows = {}
    for line in path.read_text(encoding="utf-8").split('"""')[1].splitlines():
        match = re.match(r"^(\d+)\s+(.+?)\s{2,}(\S.*?)\s{2,}", line)
        if match:
            rows[int(match[1])] = (match[2].strip(), match[3].strip())
    return rows


def test_the_verdicts_journal_states():
    assert V.DELIVERED.state is RecipientState.SENT
    assert V.HARD_BOUNCE.state is V.FAILED.state is RecipientState.FAILED_PERMANENT
    assert V.TEMPORARY.state is RecipientState.FAILED_TEMPORARY
    assert V.SERVER_BUSY.state is V.SESSION_REFUSED.state is RecipientState.PENDING


@pytest.mark.parametrize("status, verdict", [("5.1.1", V.HARD_BOUNCE), ("5.2.2", V.TEMPORARY),
                                             ("5.7.1", V.FAILED), ("4.4.7", V.TEMPORARY),
                                             ("2.0.0", V.DELIVERED), ("5.4.4", V.FAILED)])
def test_dsn_status_codes_use_the_same_table(status, verdict):
    assert classify_status(status).verdict is verdict


def test_a_bad_dsn_status_is_refused():
    with pytest.raises(ValueError, match="RFC 3463"):
        classify_status("5.1")


def test_classes_that_disagree_trust_the_basic_code():
    # "550 4.1.1": RFC 3463 says the classes must agree; the basic code decides.
    assert classify(550, "550 4.1.1 odd", "rcpt").verdict is V.HARD_BOUNCE
    assert classify(550, "550 4.1.1 odd", "rcpt").row == 12

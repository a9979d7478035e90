"""The states of a campaign's recipient, shared by the adapters' results (delivery), the send
journal, the runner and the reports (campaign)."""
from __future__ import annotations

from enum import StrEnum


class RecipientState(StrEnum):
    """Where one recipient of one campaign stands: the one vocabulary of the send journal, the
    runner, the reports and the adapters' results (``SendResult.status``). A recipient left in
    SENDING is *unknown*: its message was being handed over when the run
    stopped, so nobody can tell whether it arrived."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED_TEMPORARY = "failed-temporary"
    FAILED_PERMANENT = "failed-permanent"
    SKIPPED = "skipped"

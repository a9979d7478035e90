"""The adapter protocol: one small interface, one file per way of delivering.

Modelled on Django's mail backends (open, close, send, usable as a context manager), without
``fail_silently``: ``send`` answers with one ``SendResult`` per envelope recipient (its verdict
from ``replies``, the one table of what a reply means), and raises
only when it cannot tell what happened (``ConnectionLost``) or cannot send at all
(``AdapterError``). Adapters are thread-safe: the campaign runner calls ``send`` from several
worker threads at once, up to ``max_parallel`` of them.
"""
from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from types import TracebackType
from typing import ClassVar, Sequence

from newsletter.core.errors import AdapterError, ConnectionLost  # noqa: F401 - also importable from here
from newsletter.delivery.replies import Verdict
from newsletter.delivery.states import RecipientState

log = logging.getLogger(__name__)


class Status:
    """The adapters' old names for a result (an adapter written before ``Verdict``):
    ``SendResult(r, Status.SENT, ...)`` still works; new code passes a ``Verdict``."""

    SENT = RecipientState.SENT
    TEMPORARY = RecipientState.FAILED_TEMPORARY
    PERMANENT = RecipientState.FAILED_PERMANENT


_FROM_STATE = {RecipientState.SENT: Verdict.DELIVERED, RecipientState.FAILED_TEMPORARY: Verdict.TEMPORARY,
               RecipientState.FAILED_PERMANENT: Verdict.FAILED}


@dataclass(frozen=True)
class SendResult:
    """What became of one envelope recipient. ``reply`` is the server's answer (or what the
    adapter did, e.g. the file written); ``stage`` is the SMTP step that decided ("mail",
    "rcpt", "data"; "" where there is no SMTP). ``message_id`` is the id a sending service
    gave the message (SES's MessageId), kept in the journal to match its notifications."""

    recipient: str
    verdict: Verdict        # what the reply means (delivery.replies)
    reply: str
    code: int | None = None
    stage: str = ""
    message_id: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.verdict, Verdict):   # a Status: never a hard bounce (use a Verdict)
            object.__setattr__(self, "verdict", _FROM_STATE[RecipientState(self.verdict)])

    @property
    def status(self) -> RecipientState:
        return self.verdict.state

    @property
    def hard_bounce(self) -> bool:
        """A permanent failure about this address (unknown user, dead domain), not about the
        sender, the content or a policy: only this counts against the subscriber."""
        return self.verdict is Verdict.HARD_BOUNCE


class Adapter(ABC):
    """Opens lazily on the first ``send`` if ``open`` was not called; ``close`` is idempotent."""

    name: ClassVar[str]
    max_parallel: int = 1   # how many threads may usefully call send at once
    # True when a sent message reaches people (SMTP, an email service); False for rehearsals
    # (outbox, console), which never count as someone having received an edition.
    leaves_machine: ClassVar[bool] = False

    def open(self) -> None:
        """Check that sending can work (connect, log in, create the folder); raise
        AdapterError with the reason if it cannot."""

    def close(self) -> None:
        """Release connections and files. Safe to call more than once."""

    @abstractmethod
    def send(self, message: bytes, envelope_from: str, recipients: Sequence[str]) -> list[SendResult]:
        """Deliver ``message`` (complete, CRLF line ends) to ``recipients``; one result each,
        in the same order."""

    def describe(self) -> str:
        """Where messages go, for the person at the terminal (never shows a password)."""
        return self.name

    def __enter__(self) -> Adapter:
        self.open()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

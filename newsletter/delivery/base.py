"""The adapter protocol: one small interface, one file per way of delivering.

Modelled on Django's mail backends (open, close, send, usable as a context manager), without
``fail_silently``: ``send`` answers with one ``SendResult`` per envelope recipient, and raises
only when it cannot tell what happened (``ConnectionLost``) or cannot send at all
(``AdapterError``). Adapters are thread-safe: the campaign runner calls ``send`` from several
worker threads at once, up to ``max_parallel`` of them.
"""
from __future__ import annotations

import logging
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import Enum
from types import TracebackType
from typing import ClassVar, Sequence

from newsletter.core.errors import AdapterError, ConnectionLost  # noqa: F401 - also importable from here

log = logging.getLogger(__name__)
_ADDRESS_STATUS = re.compile(r"5\d\d[ -]5\.1\.\d{1,3}\b")


class Status(str, Enum):
    SENT = "sent"
    TEMPORARY = "failed-temporary"
    PERMANENT = "failed-permanent"


@dataclass(frozen=True)
class SendResult:
    """What became of one envelope recipient. ``reply`` is the server's answer (or what the
    adapter did, e.g. the file written); ``stage`` is the SMTP step that decided ("mail",
    "rcpt", "data"; "" where there is no SMTP). ``message_id`` is the id a sending service
    gave the message (SES's MessageId), kept in the journal to match its notifications."""

    recipient: str
    status: Status
    reply: str
    code: int | None = None
    stage: str = ""
    message_id: str = ""

    @property
    def hard_bounce(self) -> bool:
        """A permanent failure that is about this address (unknown user, dead domain), not
        about the sender or the content: only this should count against the subscriber."""
        if self.status is not Status.PERMANENT or self.code is None:
            return False
        # RFC 3463: 5.1.x is "bad destination address" whichever step it came at.
        return self.stage == "rcpt" or _ADDRESS_STATUS.match(self.reply) is not None


class Adapter(ABC):
    """Opens lazily on the first ``send`` if ``open`` was not called; ``close`` is idempotent."""

    name: ClassVar[str]
    max_parallel: int = 1   # how many threads may usefully call send at once

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

"""Prints one line per message instead of sending it: for trying a campaign out."""
from __future__ import annotations

import sys
import threading
from email import policy
from email.parser import BytesHeaderParser
from typing import TYPE_CHECKING, Any, Sequence, TextIO

from newsletter.delivery.base import Adapter, SendResult, Verdict

if TYPE_CHECKING:
    from newsletter.core.config import Workspace

_PARSER = BytesHeaderParser(policy=policy.default)


class ConsoleAdapter(Adapter):
    name = "console"
    max_parallel = 32

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream
        self._lock = threading.Lock()
        self._count = 0

    def describe(self) -> str:
        return "console (nothing is sent)"

    def send(self, message: bytes, envelope_from: str, recipients: Sequence[str]) -> list[SendResult]:
        headers = _PARSER.parsebytes(message)
        subject = " ".join(str(headers.get("Subject", "")).split())
        with self._lock:
            self._count += 1
            line = (f"{self._count:>6}  to {', '.join(recipients)}  from {envelope_from}  "
                    f"{len(message):,} bytes  {headers.get('Message-ID', '')}  {subject}")
            print(line, file=self.stream or sys.stdout, flush=True)
        return [SendResult(r, Verdict.DELIVERED, "printed") for r in recipients]


def from_workspace(ws: Workspace, **options: Any) -> ConsoleAdapter:
    """Messages printed to ``stream`` (default: standard output)."""
    return ConsoleAdapter(options.get("stream"))

"""The embedded default: every message becomes one ``.eml`` file in the outbox folder.

A file appears complete or not at all: it is written under a temporary name, flushed to disk
(fsync) and renamed, so a crash or a full disk never leaves half a message that a later step
could pick up. The file name comes from the Message-ID, so sending a message again (a resent
"unknown" recipient) replaces its file instead of adding a second one.
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from newsletter.core.files import atomic_write
from newsletter.delivery.base import Adapter, AdapterError, SendResult, Verdict

if TYPE_CHECKING:
    from newsletter.core.config import Workspace

log = logging.getLogger(__name__)

_MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*<([^>\r\n]+)>", re.I | re.M)
_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]")
STALE_TEMP_SECONDS = 3600


class OutboxAdapter(Adapter):
    name = "outbox"
    max_parallel = 32

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self._ready = False

    def describe(self) -> str:
        return f"outbox {self.directory}"

    def open(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise AdapterError(f"cannot create the outbox folder {self.directory}: {exc.strerror}") from None
        if not os.access(self.directory, os.W_OK):
            raise AdapterError(f"cannot write to the outbox folder {self.directory}")
        self._remove_stale_temporaries()
        self._ready = True

    def close(self) -> None:
        self._ready = False

    def send(self, message: bytes, envelope_from: str, recipients: Sequence[str]) -> list[SendResult]:
        if not self._ready:
            self.open()
        path = self.directory / file_name(message)
        try:
            write_atomically(path, message)
        except OSError as exc:
            raise AdapterError(f"cannot write {path}: {exc.strerror}") from None
        return [SendResult(r, Verdict.DELIVERED, f"written to {path}") for r in recipients]

    def _remove_stale_temporaries(self) -> None:
        """Temporary files left by a process killed mid-write; old ones only, since a test send
        running beside a campaign may be writing one right now."""
        cutoff = time.time() - STALE_TEMP_SECONDS
        for tmp in self.directory.glob(".tmp-*.eml"):
            try:
                if tmp.stat().st_mtime < cutoff:
                    tmp.unlink()
            except OSError:
                pass


def from_workspace(ws: Workspace, **options: Any) -> OutboxAdapter:
    """The workspace's outbox folder (delivery.outbox_dir), or ``directory``."""
    return OutboxAdapter(options.get("directory") or ws.outbox_dir)


def file_name(message: bytes) -> str:
    head = message.split(b"\r\n\r\n", 1)[0]
    match = _MESSAGE_ID.search(head)
    if match:
        return _UNSAFE.sub("_", match.group(1).decode("ascii", "replace")) + ".eml"
    return hashlib.sha256(message).hexdigest()[:32] + ".eml"


def write_atomically(path: Path, data: bytes) -> None:
    with atomic_write(path, prefix=".tmp-", suffix=".eml") as fh:  # the stale-temporary glob's names
        fh.write(data)

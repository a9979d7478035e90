from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from newsletter.delivery import AdapterError
from newsletter.delivery.outbox import OutboxAdapter, file_name

MESSAGE = b"Message-ID: <abc/../x@example.org>\r\nSubject: hi\r\n\r\nbody\r\n"


def test_file_is_named_after_the_message_id_and_a_resend_replaces_it(tmp_path: Path):
    with OutboxAdapter(tmp_path) as outbox:
        outbox.send(MESSAGE, "a@example.org", ["b@example.org"])
        outbox.send(MESSAGE, "a@example.org", ["b@example.org"])
    assert [p.name for p in tmp_path.iterdir()] == ["abc_.._x@example.org.eml"]
    assert (tmp_path / "abc_.._x@example.org.eml").read_bytes() == MESSAGE


def test_without_message_id_the_name_comes_from_the_content():
    assert file_name(b"Subject: a\r\n\r\nx") != file_name(b"Subject: b\r\n\r\nx")
    assert file_name(b"Subject: a\r\n\r\nMessage-ID: <in-body@x>").endswith(".eml")
    assert "in-body" not in file_name(b"Subject: a\r\n\r\nMessage-ID: <in-body@x>")


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path, monkeypatch):
    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with OutboxAdapter(tmp_path) as outbox:
        with pytest.raises(AdapterError, match="No space left on device"):
            outbox.send(MESSAGE, "a@example.org", ["b@example.org"])
    assert list(tmp_path.iterdir()) == []


def test_old_temporary_files_of_a_killed_process_are_removed(tmp_path: Path):
    old, fresh = tmp_path / ".tmp-old.eml", tmp_path / ".tmp-fresh.eml"
    old.write_bytes(b"half a mess")
    fresh.write_bytes(b"being written")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    OutboxAdapter(tmp_path).open()
    assert not old.exists() and fresh.exists()


def test_unwritable_folder_is_reported_at_open(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(AdapterError, match="cannot create the outbox folder"):
        OutboxAdapter(blocker / "outbox").open()

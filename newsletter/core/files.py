"""Files as the program writes and shows them: one atomic writer and one way to print a path."""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator


@contextmanager
def atomic_write(path: Path, *, text: bool = False, prefix: str | None = None,
                 suffix: str = "") -> Iterator[IO]:
    """``with atomic_write(path) as fh:`` writes to a temporary file beside ``path``, flushes
    it to disk and renames it into place only when the block ends without an error, so
    ``path`` holds the old content or the whole new one, never half (a crash, a full disk).
    ``text`` opens it for UTF-8 text (newlines as written); ``prefix`` and ``suffix`` name the
    temporary file (default ``.NAME.``), so a caller can find and remove stale ones."""
    import tempfile  # with shutil and the compression modules, 10 ms that most commands never need

    fd, tmp = tempfile.mkstemp(prefix=prefix if prefix is not None else f".{path.name}.",
                               suffix=suffix, dir=path.parent)
    try:
        with (os.fdopen(fd, "w", encoding="utf-8", newline="") if text else os.fdopen(fd, "wb")) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX); not possible on every platform."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def display_path(path: Path | str, root: Path | None, cwd: Path | None = None) -> str:
    """A path as an editor reads it: relative to ``cwd`` when given and the path is inside it,
    else relative to the workspace ``root``, else as it is. Relative paths are shown as they
    are. The one helper for every message that names a file; the CLI passes the current
    folder as ``cwd``, deeper stages pass only the workspace (they do not depend on it)."""
    path = Path(path)
    if not path.is_absolute():
        return str(path)
    for base in (cwd, root):
        if base is None:
            continue
        for candidate in (path, path.resolve()):  # as written, then with symlinks resolved
            if candidate.is_relative_to(base):
                return str(candidate.relative_to(base))
    return str(path)

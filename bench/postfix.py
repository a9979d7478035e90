"""Postfix's test tools, smtp-sink (a fast SMTP server that accepts and drops mail) and
smtp-source (a fast SMTP client), taken from Debian's `postfix` package without installing it:
`apt-get download postfix` and `dpkg -x` into bench/.tools/postfix/. No mail daemon is
installed or started; the two programs run from there with the package's own libraries.

    python bench/postfix.py        fetch the tools (if needed) and print their version
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import TOOLS, Run, Unavailable, run_process  # noqa: E402

HOME = TOOLS / "postfix"
SINK = HOME / "usr" / "sbin" / "smtp-sink"
SOURCE = HOME / "usr" / "sbin" / "smtp-source"
LIBS = HOME / "usr" / "lib" / "postfix"
VERSION_FILE = HOME / "VERSION"


def ensure() -> str:
    """The Postfix version whose tools are in bench/.tools/postfix, fetching them first if need be."""
    if SINK.exists() and SOURCE.exists() and VERSION_FILE.exists():
        return VERSION_FILE.read_text().strip()
    for tool in ("apt-get", "dpkg", "dpkg-deb"):
        if not _which(tool):
            raise Unavailable(f"{tool} not found: smtp-sink and smtp-source come from Debian's postfix package")
    with tempfile.TemporaryDirectory(prefix="bench-postfix-") as tmp:
        deb = _download(Path(tmp))
        HOME.mkdir(parents=True, exist_ok=True)
        subprocess.run(["dpkg", "-x", str(deb), str(HOME)], check=True)
        version = subprocess.run(["dpkg-deb", "-f", str(deb), "Version"], check=True,
                                 capture_output=True, text=True).stdout.strip()
    if not (SINK.exists() and SOURCE.exists()):
        raise Unavailable(f"the postfix package held no {SINK.name} / {SOURCE.name}")
    VERSION_FILE.write_text(version + "\n")
    return version


def _which(tool: str) -> bool:
    return any(Path(d, tool).exists() for d in os.environ.get("PATH", "").split(os.pathsep))


def _download(folder: Path) -> Path:
    """apt-get download into ``folder``; if apt's package lists do not know postfix yet
    (a fresh container), `apt-get update` once and try again."""
    for attempt in range(2):
        done = subprocess.run(["apt-get", "download", "postfix"], cwd=folder, capture_output=True, text=True)
        debs = sorted(folder.glob("postfix_*.deb"))
        if done.returncode == 0 and debs:
            return debs[0]
        if attempt == 0:
            update = subprocess.run(["apt-get", "update"], capture_output=True, text=True)
            if update.returncode != 0:
                raise Unavailable("`apt-get download postfix` failed and `apt-get update` was refused "
                                  f"(run it as root first): {update.stderr.strip()[-300:]}")
    raise Unavailable(f"`apt-get download postfix` failed: {done.stderr.strip()[-300:]}")


def tool_env() -> dict[str, str]:
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = os.pathsep.join(filter(None, [str(LIBS), env.get("LD_LIBRARY_PATH")]))
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Sink:
    """smtp-sink on a free loopback port, for the length of a ``with`` block. It answers every
    command at once and keeps nothing, so it is never the slower side.

    ``count=True`` has it print its running totals, so that ``delivered()`` can tell how many
    messages it accepted (used to check a run, not while timing the reference)."""

    def __init__(self, *, count: bool = False, log: Path | None = None):
        self.count = count
        self.log = log
        self.port = 0
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Sink":
        ensure()
        for _attempt in range(5):
            if self._start(free_port()):
                return self
        raise RuntimeError("smtp-sink did not start listening on a loopback port (see its log)")

    def _start(self, port: int) -> bool:
        # As root, smtp-sink insists on dropping to an unprivileged user once listening.
        args = [str(SINK), *(["-u", "nobody"] if os.geteuid() == 0 else []), *(["-c"] if self.count else []),
                f"127.0.0.1:{port}", "1024"]
        out = open(self.log, "wb") if self.log else subprocess.DEVNULL
        self.proc = subprocess.Popen(args, env=tool_env(), stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=subprocess.STDOUT)
        if self.log:
            out.close()  # type: ignore[union-attr]
        self.port = port
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                    conn.recv(512)  # the 220 greeting
                    conn.sendall(b"QUIT\r\n")
                    return True
            except OSError:
                time.sleep(0.05)
        self._stop()
        return False

    def delivered(self) -> int:
        """Messages accepted so far, from smtp-sink's running count (needs count=True and a log)."""
        if not (self.count and self.log and self.log.exists()):
            raise RuntimeError("Sink(count=True, log=...) is needed to count deliveries")
        counts = [int(n) for n in _numbers_after(self.log.read_bytes(), b"mesg=")]
        return counts[-1] if counts else 0

    def _stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __exit__(self, *exc: object) -> None:
        self._stop()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


def _numbers_after(data: bytes, marker: bytes) -> list[bytes]:
    out = []
    start = data.find(marker)
    while start >= 0:
        start += len(marker)
        end = start
        while end < len(data) and data[end:end + 1].isdigit():
            end += 1
        out.append(data[start:end] or b"0")
        start = data.find(marker, end)
    return out


def source(port: int, *, messages: int, connections: int, body_bytes: int,
           sender: str = "news@mcin.example.org", recipient: str = "reader@example.org",
           timeout: float = 900) -> Run:
    """smtp-source: ``messages`` messages of about ``body_bytes`` bytes each (plus its own four
    header lines), over ``connections`` parallel sessions kept open (-d) from first to last."""
    ensure()
    cmd = [str(SOURCE), "-d", "-s", str(connections), "-m", str(messages), "-l", str(body_bytes),
           "-f", sender, "-t", recipient, f"127.0.0.1:{port}"]
    return run_process(cmd, env=tool_env(), timeout=timeout)


if __name__ == "__main__":
    print(f"postfix {ensure()}: {SINK} and {SOURCE}")

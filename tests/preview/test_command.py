"""`newsletter preview` from the command line: starts, serves, stops on Ctrl-C."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from click.testing import CliRunner

from newsletter.cli import main

ROOT = Path(__file__).resolve().parents[2]


def serve_and_stop(ws: Path, *args: str) -> tuple[str, str, int, str]:
    """Run `newsletter preview ARGS`, fetch the address it prints, press Ctrl-C.
    Returns (the page, stdout, exit code, stderr)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "newsletter", "-C", str(ws), "preview", *args,
                             "--no-open", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        first = proc.stdout.readline()  # type: ignore[union-attr]
        match = re.search(r" at (http://127\.0\.0\.1:\d+/\S*)$", first.strip())
        assert match, f"unexpected first line {first!r}"
        with urllib.request.urlopen(match.group(1), timeout=30) as resp:
            page = resp.read().decode()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return page, first + out, proc.returncode, err


def test_preview_serves_the_named_edition_and_stops_on_ctrl_c(sample_ws: Path) -> None:
    page, out, code, err = serve_and_stop(sample_ws, "issues/2026-11/")
    assert code == 0, err
    assert re.search(r"at http://127\.0\.0\.1:\d+/e/2026-11/\n", out)
    assert "November news: peer learning" in page
    assert "Stopping the preview." in out


def test_broken_settings_are_shown_not_fatal(sample_ws: Path) -> None:
    (sample_ws / "newsletter.yaml").write_text("organisation: [\n", encoding="utf-8")
    page, _out, code, err = serve_and_stop(sample_ws)
    assert code == 0, err
    assert "newsletter.yaml:2:1" in page and "could not be read" in page


def test_unknown_edition_is_refused_with_a_suggestion(sample_ws: Path) -> None:
    result = CliRunner().invoke(main, ["-C", str(sample_ws), "preview", "2026-1", "--no-open", "--port", "0"])
    assert result.exit_code == 1
    assert "no edition '2026-1'; did you mean '2026-11'?" in result.output


def test_the_edition_is_checked_before_the_port_is_bound(sample_ws: Path) -> None:
    """A wrong edition name is the error, even when the port is taken (the port is never tried)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["-C", str(sample_ws), "preview", "2026-1", "--no-open",
                                           "--port", str(port)])
    assert result.exit_code == 1
    assert "no edition '2026-1'; did you mean '2026-11'?" in result.output
    assert "in use" not in result.output

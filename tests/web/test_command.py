"""`newsletter serve` as a command: it starts, answers /healthz and stops on SIGTERM; it
prints the embeddable sign-up form; bad `web:` settings are errors at file:line."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from click.testing import CliRunner

from newsletter.cli import main
from tests.support.smtp_servers import free_port
from tests.web.conftest import KEY


def test_serve_starts_answers_and_stops(sample_ws: Path) -> None:
    port = free_port()
    env = {**os.environ, "NEWSLETTER_SECRET_KEY": KEY}
    proc = subprocess.Popen([sys.executable, "-m", "newsletter", "-C", str(sample_ws), "serve", "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        answer = None
        while time.monotonic() < deadline and answer is None:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            except httpx.TransportError:
                time.sleep(0.1)
        assert answer is not None and answer.json() == {"status": "ok"}
        assert httpx.get(f"http://127.0.0.1:{port}/newsletter/signup").status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    # uvicorn shuts down cleanly, then ends by the signal it received (systemd counts SIGTERM as clean).
    assert proc.returncode in (0, -signal.SIGTERM), err
    assert "Traceback" not in err
    assert f"http://127.0.0.1:{port}" in out and "/newsletter/unsubscribe" in out


def test_print_form_is_a_snippet_for_another_site(sample_ws: Path) -> None:
    result = CliRunner().invoke(main, ["-C", str(sample_ws), "serve", "--print-form", "--lang", "de"])
    assert result.exit_code == 0, result.output
    html = result.output
    assert 'action="https://mcin.example.org/newsletter/signup"' in html
    assert 'name="csrf"' not in html and 'name="website"' in html          # honeypot, no token
    assert "E-Mail-Adresse" in html and "Veranstaltungen und Fortbildungen" in html
    assert 'name="consent"' in html and "<script" not in html


def test_bad_web_settings_are_errors_at_file_and_line(sample_ws: Path) -> None:
    settings = sample_ws / "newsletter.yaml"
    settings.write_text(settings.read_text() + "  trusted_proxies: [not-an-address]\n  colour: blue\n")
    result = CliRunner().invoke(main, ["-C", str(sample_ws), "serve", "--print-form"])
    assert result.exit_code == 1
    assert "newsletter.yaml:" in result.output and "trusted_proxies" in result.output
    assert "not-an-address" in result.output and "colour" in result.output

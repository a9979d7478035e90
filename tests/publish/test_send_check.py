"""`send` checks the edition's public addresses before it sends: a local HTTP server plays
the organisation's web server, aiosmtpd the mail server."""
from __future__ import annotations

import functools
import http.server
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import main
from newsletter.publish.reachable import check_urls


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def web_root(tmp_path: Path):
    """A static web server on 127.0.0.1 serving a folder; yields (folder, base URL)."""
    folder = tmp_path / "www"
    folder.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def ws_online(sample_ws: Path, web_root):
    """The sample workspace whose archive URL is the local web server's /newsletter."""
    folder, base = web_root
    settings = sample_ws / "newsletter.yaml"
    settings.write_text(settings.read_text(encoding="utf-8").replace(
        "archive: https://mcin.example.org/newsletter", f"archive: {base}/newsletter"), encoding="utf-8")
    result = run(sample_ws, "subscribers", "import", "subscribers/sample.csv")
    assert result.exit_code == 0, result.output
    return sample_ws, folder / "newsletter", base


def run(ws: Path, *args: str, env: dict[str, str] | None = None):
    return CliRunner(env=env).invoke(main, ["-C", str(ws), *args])


def send(ws: Path, port: int, *args: str):
    env = {"NEWSLETTER_SMTP_URL": f"smtp://127.0.0.1:{port}", "NEWSLETTER_SECRET_KEY": "k" * 32}
    return run(ws, "send", "2026-11", "-s", "all", "--adapter", "smtp", "--yes", *args, env=env)


def test_send_refuses_until_the_edition_is_published_then_proceeds(ws_online, smtp_server) -> None:
    ws, served, base = ws_online
    refused = send(ws, smtp_server.port)
    assert refused.exit_code == 1, refused.output
    assert "do not answer" in refused.output and "newsletter publish 2026-11" in refused.output
    assert f"{base}/newsletter/2026-11/en.html (HTTP 404)" in refused.output
    assert f"{base}/newsletter/2026-11/images/hero." in refused.output
    assert smtp_server.handler.messages == []

    published = run(ws, "publish", "2026-11", "--to", str(served))
    assert published.exit_code == 0, published.output
    [image] = (served / "2026-11" / "images").glob("round-table.*.png")
    image.unlink()                                                     # one image did not arrive
    again = send(ws, smtp_server.port)
    assert again.exit_code == 1
    missing = [line.strip() for line in again.output.splitlines() if line.startswith("  http")]
    assert missing == [f"{base}/newsletter/2026-11/images/{image.name} (HTTP 404)"]
    assert smtp_server.handler.messages == []

    assert run(ws, "publish", "2026-11", "--to", str(served)).exit_code == 0
    sent = send(ws, smtp_server.port)
    assert sent.exit_code == 0, sent.output
    assert "publish check: the edition's images and pages answer online" in sent.output
    assert len(smtp_server.handler.messages) > 0
    html = smtp_server.handler.messages[0].message.get_body(("html",)).get_content()
    assert f"{base}/newsletter/2026-11/images/{image.name}" in html


def test_skip_flag_and_local_adapters_skip_the_check_with_a_note(ws_online, smtp_server) -> None:
    ws, _served, _base = ws_online
    skipped = send(ws, smtp_server.port, "--skip-publish-check")
    assert skipped.exit_code == 0, skipped.output
    assert "publish check skipped (--skip-publish-check)" in skipped.output and smtp_server.handler.messages
    outbox = run(ws, "send", "2026-11", "-s", "all", "--adapter", "outbox", "--yes")
    assert outbox.exit_code == 0, outbox.output
    assert "publish check skipped: the outbox adapter keeps the messages on this machine" in outbox.output


def test_a_server_that_does_not_answer_times_out_quickly() -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)                                                   # accepts, never replies
    try:
        port = silent.getsockname()[1]
        urls = [f"http://127.0.0.1:{port}/a.png", f"http://127.0.0.1:{port}/b.png"]
        started = time.monotonic()
        missing = check_urls(urls, timeout=0.5)
        assert [m.url for m in missing] == urls and all("no answer" in m.problem for m in missing)
        assert time.monotonic() - started < 2.5                        # in parallel, not one after the other
    finally:
        silent.close()

"""The preview server over real HTTP on 127.0.0.1: routes, refusals, error pages, live-reload
events. (The browser tests drive the same server through Chromium.)"""
from __future__ import annotations

import http.client
import re
import socket
import time
from pathlib import Path

import pytest

from newsletter.preview import PreviewError, PreviewServer

from .helpers import raw_get

SETTINGS_SECRET = "Lindenallee 12"  # text in newsletter.yaml that must never be served

TRAVERSALS = [
    "/../newsletter.yaml",
    "/static/../app.py",
    "/static/%2e%2e/app.py",
    "/static/%2E%2E%2Fapp.py",
    "/static/%252e%252e%252fapp.py",
    "/e/2026-11/files/../../../newsletter.yaml",
    "/e/2026-11/files/images/../../../../newsletter.yaml",
    "/e/2026-11/files/%2e%2e/%2e%2e/%2e%2e/newsletter.yaml",
    "/e/2026-11/files/..%2f..%2f..%2fnewsletter.yaml",
    "/e/2026-11/files/images%2f..%2f..%2f..%2f..%2fnewsletter.yaml",
    "/e/2026-11/files/%252e%252e%252f%252e%252e%252f%252e%252e%252fnewsletter.yaml",
    "/e/2026-11/files/%252e%252e/%252e%252e/%252e%252e/newsletter.yaml",
    "/e/2026-11/files/..%5c..%5c..%5cnewsletter.yaml",
    "/e/2026-11/files/%c0%ae%c0%ae/%c0%ae%c0%ae/newsletter.yaml",
    "/e/..%2f..%2f/files/newsletter.yaml",
    "/e/%2e%2e/files/newsletter.yaml",
    "/e/%252e%252e/files/newsletter.yaml",
    "/e/2026-11/files/edition.yaml",
    "/e/2026-11/files/articles/peer-learning.md",
    "/e/2026-11/files/%2fetc%2fpasswd",
]


def test_traversal_and_non_image_requests_get_404(preview: PreviewServer) -> None:
    served = {t: raw_get(preview, t) for t in TRAVERSALS}
    assert {t: r.status for t, r in served.items() if r.status != 404} == {}
    assert not [t for t, r in served.items() if SETTINGS_SECRET in r.text or "import " in r.text]


def test_edition_images_and_ui_files_are_served(preview: PreviewServer) -> None:
    image = raw_get(preview, "/e/2026-11/files/images/hero.png")
    assert image.status == 200 and image.headers["content-type"] == "image/png"
    assert image.body.startswith(b"\x89PNG") and "sandbox" in image.headers["content-security-policy"]
    assert raw_get(preview, "/static/preview.js").headers["content-type"].startswith("text/javascript")


def test_a_logo_kept_in_the_workspace_is_served_under_the_name_the_email_gives_it(preview: PreviewServer,
                                                                                 sample_ws: Path) -> None:
    email = raw_get(preview, "/e/2026-11/email?lang=en")
    [src] = re.findall(r'src="(/e/2026-11/files/logo\.[0-9a-f]{10}\.png)"', email.text)  # logo: assets/logo.png
    logo = raw_get(preview, src)
    assert logo.status == 200 and logo.body == (sample_ws / "assets" / "logo.png").read_bytes()
    assert raw_get(preview, "/e/2026-11/files/logo.0123456789.gif").status == 404
    [dark] = re.findall(r'src="(/e/2026-11/files/logo-dark\.[0-9a-f]{10}\.png)"', email.text)  # logo_dark
    assert raw_get(preview, dark).body == (sample_ws / "assets" / "logo-dark.png").read_bytes()


def test_symbolic_link_out_of_an_edition_is_refused(preview: PreviewServer, sample_ws: Path) -> None:
    (sample_ws / "issues" / "2026-11" / "images" / "settings.png").symlink_to(sample_ws / "newsletter.yaml")
    assert raw_get(preview, "/e/2026-11/files/images/settings.png").status == 404


def test_foreign_host_header_is_refused(preview: PreviewServer) -> None:
    """A page on another site that rebinds its name to 127.0.0.1 sends its own Host header."""
    assert raw_get(preview, "/", host="attacker.example:8025").status == 403
    assert raw_get(preview, "/", host="127.attacker.example").status == 403
    assert raw_get(preview, "/", host=f"localhost:{preview.port}").status == 200


def test_pages_forbid_inline_script(preview: PreviewServer) -> None:
    csp = raw_get(preview, "/").headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'" and directives["default-src"] == "'none'"


def test_index_lists_the_editions(preview: PreviewServer) -> None:
    reply = raw_get(preview, "/")
    assert reply.status == 200
    assert 'href="/e/2026-11/"' in reply.text and 'href="/e/2026-10/"' in reply.text


def test_unknown_edition_is_404_with_a_link_back(preview: PreviewServer) -> None:
    reply = raw_get(preview, "/e/2027-01/")
    assert reply.status == 404 and "no edition &#39;2027-01&#39;" in reply.text and 'href="/"' in reply.text


def test_broken_yaml_shows_file_line_and_source(preview: PreviewServer, sample_ws: Path) -> None:
    path = sample_ws / "issues" / "2026-11" / "edition.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines) + "\nfooter: Thanks: see you\n", encoding="utf-8")
    reply = wait_for(preview, "/e/2026-11/", "could not be built")
    assert f"issues/2026-11/edition.yaml:{len(lines) + 1}:15" in reply.text
    assert "mapping values are not allowed in this context" in reply.text
    assert "footer: Thanks: see you" in reply.text


def test_broken_settings_are_shown_on_the_index(preview: PreviewServer, sample_ws: Path) -> None:
    path = sample_ws / "newsletter.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("list_id:", "list_idd:"), encoding="utf-8")
    reply = wait_for(preview, "/", "could not be read")
    assert "newsletter.yaml:" in reply.text and "list_idd" in reply.text


def test_reload_event_follows_a_save(preview: PreviewServer, sample_ws: Path) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", preview.port, timeout=5)
    since = preview.app.hub.generation
    conn.request("GET", f"/events?since={since}")
    resp = conn.getresponse()
    assert resp.status == 200 and resp.getheader("Content-Type") == "text/event-stream"
    assert resp.readline() == b"retry: 500\n"
    path = sample_ws / "issues" / "2026-11" / "edition.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("number: 14", "number: 15"), encoding="utf-8")
    lines = [resp.readline() for _ in range(3)]
    assert lines[1] == b"event: reload\n" and lines[2] == f"data: {since + 1}\n".encode()
    conn.close()


def test_port_in_use_is_a_clear_error(sample_ws: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PreviewError, match=f"port {port} on 127.0.0.1 is already in use; choose another with --port"):
            PreviewServer(sample_ws, "127.0.0.1", port, watch=False).start()


def wait_for(server: PreviewServer, target: str, text: str, timeout: float = 5.0):
    """The page once it shows ``text`` (the watcher needs a moment to see the save)."""
    deadline = time.monotonic() + timeout
    while True:
        reply = raw_get(server, target)
        if text in reply.text or time.monotonic() > deadline:
            return reply
        time.sleep(0.05)


def test_every_view_answers(preview: PreviewServer) -> None:
    base = "/e/2026-11/?lang=de&segment=leaders&subscriber=amelia.hartley%40example.org&view="
    text = raw_get(preview, base + "text").text
    assert "Liebe Amelia," in text and "&lt;table" not in text
    assert "&lt;mj-section" in raw_get(preview, base + "mjml").text
    assert "&lt;table" in raw_get(preview, base + "html").text
    headers = raw_get(preview, base + "headers").text
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in headers
    assert "To: Amelia Hartley &lt;amelia.hartley@example.org&gt;" in headers
    assert "never work" in headers

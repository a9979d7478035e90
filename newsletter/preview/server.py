"""The preview's HTTP server: the standard library's ThreadingHTTPServer, one thread per
request, Server-Sent Events for live reload. Nothing here reaches outside the machine.

Bound to 127.0.0.1 by default. On a loopback address the server also refuses requests whose
Host header is not a loopback name, so a web page cannot reach it through DNS rebinding.
"""
from __future__ import annotations

import errno
import ipaddress
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from newsletter.core.errors import PreviewError
from newsletter.preview.app import PreviewApp, Response
from newsletter.preview.watcher import Watcher

log = logging.getLogger(__name__)
KEEPALIVE_SECONDS = 15.0
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    app: PreviewApp
    check_host: bool


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    server_version = "newsletter-preview"
    sys_version = ""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if not self._host_allowed():
            self._send(Response(403, b"Forbidden: unexpected Host header", "text/plain; charset=utf-8"))
            return
        if urlsplit(self.path).path == "/events":
            self._events()
            return
        try:
            response = self.server.app.handle(self.path)
        except Exception:  # a bug must cost one request, never the server
            log.exception("answering %s failed", self.path)
            response = Response(500, b"Internal error; see the terminal running newsletter preview.",
                                "text/plain; charset=utf-8")
        self._send(response)

    def do_HEAD(self) -> None:  # noqa: N802
        response = self.server.app.handle(self.path) if self._host_allowed() else Response(403)
        self._send(response, body=False)

    def _host_allowed(self) -> bool:
        if not self.server.check_host:
            return True
        host = (self.headers.get("Host") or "").strip().lower()
        name = host[1:].split("]")[0] if host.startswith("[") else host.rsplit(":", 1)[0]
        return is_loopback(name)

    def _send(self, response: Response, body: bool = True) -> None:
        try:
            self.send_response(response.status)
            for key, value in response.all_headers().items():
                self.send_header(key, value)
            self.end_headers()
            if body:
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser went away (a reload): nothing to answer

    def _events(self) -> None:
        """Tell the page to reload whenever the generation changes; keep-alive comments
        between changes let both sides notice a dead connection."""
        hub = self.server.app.hub
        query = parse_qs(urlsplit(self.path).query)
        try:
            seen = int((query.get("since") or [""])[0])
        except ValueError:
            seen = hub.generation
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(b"retry: 500\n\n")
            self.wfile.flush()
            while not hub.closed:
                current = hub.wait(seen, KEEPALIVE_SECONDS)
                if hub.closed:
                    break
                if current != seen:
                    seen = current
                    self.wfile.write(f"event: reload\ndata: {current}\n\n".encode())
                else:
                    self.wfile.write(b": keep-alive\n\n")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            return

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's signature
        log.debug("%s - %s", self.address_string(), format % args)


class PreviewServer:
    """A running preview: the HTTP server, and (unless ``watch=False``) the file watcher."""

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 8025, *, watch: bool = True):
        self.app = PreviewApp(root)
        self.host, self.port, self.watch = host, port, watch
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._watcher: Watcher | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def start(self) -> "PreviewServer":
        self._httpd = self._bind()
        self.port = self._httpd.server_address[1]
        if self.watch:
            self._watcher = Watcher(self.app.root, self.app.changed)
            self._watcher.start()
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="preview-http", daemon=True)
        self._thread.start()
        return self

    def _bind(self) -> _HTTPServer:
        server_class = _HTTPServer
        if ":" in self.host:
            import socket

            server_class = type("_HTTPServer6", (_HTTPServer,), {"address_family": socket.AF_INET6})
        try:
            httpd = server_class((self.host, self.port), _Handler)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PreviewError(f"port {self.port} on {self.host} is already in use; "
                                   f"choose another with --port {self.port + 1}") from None
            raise PreviewError(f"cannot listen on {self.host}:{self.port}: {exc.strerror or exc}") from None
        httpd.app = self.app
        httpd.check_host = is_loopback(self.host)
        return httpd

    def wait(self) -> None:
        """Block until the server stops (Ctrl-C in the terminal)."""
        assert self._thread is not None
        while self._thread.is_alive():
            self._thread.join(0.5)

    def stop(self) -> None:
        self.app.hub.close()  # release the open /events connections first
        if self._watcher is not None:
            self._watcher.stop()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> "PreviewServer":
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False

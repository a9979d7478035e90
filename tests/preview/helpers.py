"""Raw HTTP for the preview tests."""
from __future__ import annotations

import http.client
from dataclasses import dataclass

from newsletter.preview import PreviewServer


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def raw_get(server: PreviewServer, target: str, host: str | None = None) -> Reply:
    """GET ``target`` exactly as written: http.client does not normalise '..' or '%2e',
    unlike a browser, so traversal attempts reach the server as an attacker sends them."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.putrequest("GET", target, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host or f"127.0.0.1:{server.port}")
        conn.endheaders()
        resp = conn.getresponse()
        return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()

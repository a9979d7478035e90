"""Running the app with uvicorn: in the foreground for `newsletter serve`, or in a thread on a
free port for tests and benchmarks (``Running``)."""
from __future__ import annotations

import importlib
import os
import threading
from pathlib import Path
from typing import Any, Sequence

import uvicorn
from starlette.applications import Starlette

from newsletter.core.config import Workspace, load_workspace
from newsletter.web.app import build_app

WORKSPACE_ENV = "NEWSLETTER_SERVE_WORKSPACE"
ROUTES_ENV = "NEWSLETTER_SERVE_ROUTES"


def create_app() -> Starlette:
    """The app factory uvicorn's worker processes call (``--workers`` above 1)."""
    ws = load_workspace(Path(os.environ[WORKSPACE_ENV]))
    return build_app(ws, extra_routes=extra_routes(os.environ.get(ROUTES_ENV, "").split(","), ws))


def extra_routes(names: Sequence[str], ws: Workspace) -> list[Any]:
    """Other rooms' routes, each named "module:function" (``function(ws)`` returns routes, e.g.
    "newsletter.feedback.webhooks:routes"): the command names them, so web imports no room,
    and worker processes find them by name too."""
    found: list[Any] = []
    for name in filter(None, names):
        module, _, function = name.partition(":")
        found += getattr(importlib.import_module(module), function)(ws)
    return found


def config(app: Any, host: str, port: int, **extra: Any) -> uvicorn.Config:
    # No uvicorn access log: it prints the query string, and tokens live there (app.AccessLog
    # logs the path only). Proxy headers are judged by the app (web.trusted_proxies), not uvicorn.
    return uvicorn.Config(app, host=host, port=port, access_log=False, proxy_headers=False,
                          server_header=False, date_header=True, log_level="warning", **extra)


def serve(ws: Workspace, host: str, port: int, workers: int, routes: Sequence[str] = ()) -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM from systemd); ``routes`` names other rooms'
    routes to mount (see ``extra_routes``)."""
    if workers > 1:
        os.environ[WORKSPACE_ENV] = str(ws.root)
        os.environ[ROUTES_ENV] = ",".join(routes)
        uvicorn.Server(config("newsletter.web.server:create_app", host, port, factory=True,
                              workers=workers)).run()  # pragma: no cover - uvicorn's multiprocess supervisor
        return
    uvicorn.Server(config(build_app(ws, extra_routes=extra_routes(routes, ws)), host, port)).run()


class Running:
    """``with Running(app) as url:`` serves ``app`` on 127.0.0.1 on a free port in a thread."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0):
        self.server = uvicorn.Server(config(app, host, port))
        self.server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self.thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = 200
        while not self.server.started and deadline and self.thread.is_alive():
            threading.Event().wait(0.05)
            deadline -= 1
        if not self.server.started:
            raise RuntimeError("the server did not start")
        sock = self.server.servers[0].sockets[0]
        host, port = sock.getsockname()[:2]
        return f"http://{host}:{port}"

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(10)


__all__ = ["Running", "create_app", "serve"]

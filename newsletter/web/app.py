"""The `newsletter serve` application: a list of routes and middleware (Starlette).

``build_app(ws)`` builds it from the workspace. Other rooms add their own routes through
``extra_routes`` (for example the feedback room's provider webhooks): the command that starts
the server collects them and passes them in, so the rooms never import each other::

    app = build_app(ws, extra_routes=[Route("/hooks/ses", ses_webhook, methods=["POST"])])

Extra routes get the same security headers, request size limit and access log (which never
shows query strings, where the tokens are). They find the shared pieces on
``request.app.state.site`` (a ``pages.Site``: workspace, database, client address, clock).
"""
from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path
from typing import AsyncIterator, Sequence

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsletter.core.config import Workspace
from newsletter.web import pages
from newsletter.web.db import Database
from newsletter.web.i18n import Texts, Words
from newsletter.web.mail import confirmation_message, send_confirmation
from newsletter.web.pages import Paths, Site
from newsletter.web.security import ClientAddress, Csrf, RateLimit, SecurityMiddleware

log = logging.getLogger("newsletter.web.access")
HERE = Path(__file__).resolve().parent


def page_environment(ws: Workspace) -> Environment:
    """The pages' templates: the workspace's templates/web/ first, then the shipped ones."""
    loader = ChoiceLoader([FileSystemLoader(str(ws.templates_dir / "web")),
                           FileSystemLoader(str(HERE / "templates"))])
    return Environment(loader=loader, autoescape=select_autoescape(default=True, default_for_string=True),
                       trim_blocks=True, lstrip_blocks=True)


def default_mailer(ws: Workspace, site_clock=pages.utc_now):
    def mail(words: Words, to: str, name: str, url: str, hours: int) -> None:
        try:
            message = confirmation_message(ws, words, to=to, name=name, confirm_url=url, hours=hours,
                                           now=site_clock())
        except Exception:
            log.exception("the confirmation message could not be rendered")
            return
        send_confirmation(ws, message, to)
    return mail


def make_site(ws: Workspace, *, mailer: pages.Mailer | None = None, clock=pages.utc_now) -> Site:
    web = ws.settings.web
    secrets = ws.secrets
    return Site(
        ws=ws, texts=Texts(ws), env=page_environment(ws), db=Database(ws), paths=Paths.from_workspace(ws),
        keys=secrets.token_keys, csrf=Csrf(secrets.secret_key), clients=ClientAddress(web.trusted_proxies),
        signup_limit=RateLimit(web.signups_per_ip_per_hour, 3600), mailer=mailer or default_mailer(ws, clock),
        clock=clock, topics=list(web.topics))


def routes(site: Site) -> list[BaseRoute]:
    p = site.paths
    both = ["GET", "POST"]
    return [
        Route(p.unsubscribe, pages.unsubscribe, methods=both),
        Route(p.preferences, pages.preferences, methods=both),
        Route(p.signup, pages.signup, methods=both),
        Route(p.confirm, pages.confirm, methods=both),
        Route(p.healthz, pages.healthz, methods=["GET"]),
        Mount(p.static, app=StaticFiles(directory=str(HERE / "static")), name="static"),
    ]


def build_app(ws: Workspace, *, extra_routes: Sequence[BaseRoute] = (), mailer: pages.Mailer | None = None,
              clock=pages.utc_now) -> Starlette:
    """The app for ``ws``: the readers' pages, then ``extra_routes``."""
    site = make_site(ws, mailer=mailer, clock=clock)
    site.db.prepare()
    app = Starlette(routes=[*routes(site), *extra_routes],
                    exception_handlers={HTTPException: _http_error, Exception: _server_error},
                    lifespan=_closing(site))
    app.state.site = site
    app.add_middleware(AccessLog)
    app.add_middleware(SecurityMiddleware, max_body=ws.settings.web.max_body_bytes)
    return app


def _closing(site: Site):
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        site.db.close()
    return lifespan


async def _http_error(request: Request, exc: Exception) -> Response:
    site: Site = request.app.state.site
    words = site.texts.words(None)
    status = getattr(exc, "status_code", 500)
    text = words.not_found if status in (404, 405) else words.error_title
    return pages.message(site, request, words, text, status=status)


async def _server_error(request: Request, exc: Exception) -> Response:
    site: Site = request.app.state.site
    log.error("%s %s failed: %s", request.method, request.url.path, type(exc).__name__, exc_info=exc)
    words = site.texts.words(None)
    return pages.message(site, request, words, words.error_title, words.server_error, status=500)


class AccessLog:
    """One line per request: method, path (never the query: tokens live there), status, time."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def remember(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, remember)
        finally:
            if log.isEnabledFor(logging.INFO):
                log.info("%s %s %s %.1fms", scope["method"], scope["path"], status,
                         (time.perf_counter() - started) * 1000)

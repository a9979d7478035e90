"""The readers' endpoints: small async functions that check a token or a form and call the same
store methods the CLI calls (unsubscribe, set_preferences, resubscribe through a confirmed
sign-up). GET never changes anything; every form POST but the RFC 8058 one-click carries a
CSRF token; token pages speak the subscriber's language, the sign-up page the browser's."""
from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable
from urllib.parse import urlsplit

from jinja2 import Environment
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from newsletter.core import tokens
from newsletter.core.config import Workspace
from newsletter.core.errors import SubscriberError
from newsletter.subscribers.models import (InvalidValue, clean_name, normalise_email, normalise_language,
                                           utc_now)
from newsletter.subscribers.signups import Signups
from newsletter.subscribers.store import DatabaseBusy
from newsletter.web.db import Database
from newsletter.web.i18n import Texts, Words, accept_language
from newsletter.web.security import CSRF_COOKIE, CSRF_FIELD, ClientAddress, Csrf, RateLimit, stored_ip

log = logging.getLogger(__name__)
Mailer = Callable[[Words, str, str, str, int], None]   # words, to, name, confirm_url, hours


@dataclass
class Paths:
    """Where each page lives, from the public URLs in newsletter.yaml, so that the links in
    messages and the server's routes cannot disagree."""

    public: str
    unsubscribe: str
    preferences: str
    signup: str
    confirm: str
    static: str
    healthz: str = "/healthz"

    @classmethod
    def from_workspace(cls, ws: Workspace) -> Paths:
        urls, web = ws.settings.urls, ws.settings.web
        public = (web.public_url or urls.unsubscribe.rsplit("/", 1)[0]).rstrip("/")
        base = urlsplit(public).path.rstrip("/")
        unsubscribe = urlsplit(urls.unsubscribe).path or f"{base}/unsubscribe"
        preferences = urlsplit(urls.preferences).path if urls.preferences else f"{base}/preferences"
        return cls(public, unsubscribe, preferences, f"{base}/signup", f"{base}/confirm", f"{base}/static")


@dataclass
class Site:
    """Everything the endpoints share, built once when the app starts."""

    ws: Workspace
    texts: Texts
    env: Environment
    db: Database
    paths: Paths
    keys: tuple[bytes, ...]
    csrf: Csrf
    clients: ClientAddress
    signup_limit: RateLimit
    mailer: Mailer
    clock: Callable[[], datetime] = utc_now
    topics: list[Any] = field(default_factory=list)

    @property
    def list_id(self) -> str:
        return self.ws.settings.list_id

    @property
    def hours(self) -> int:
        return int(round(self.ws.settings.web.signup_expiry_hours))

    def client(self, request: Request) -> str:
        peer = request.client.host if request.client else ""
        return self.clients.of(peer, request.headers.get("x-forwarded-for"))

    def secure(self, request: Request) -> bool:
        if request.url.scheme == "https":
            return True
        peer = request.client.host if request.client else ""
        return self.clients.is_trusted(peer) and request.headers.get("x-forwarded-proto") == "https"

    def topic_views(self, words: Words, chosen: set[str]) -> list[dict[str, Any]]:
        return [{"tag": t.tag, "label": _label(t.label, words.language, self.texts.default),
                 "chosen": t.tag in chosen} for t in self.topics]

    def consent_text(self, words: Words) -> str:
        text = self.ws.settings.web.consent_text
        return _label(text, words.language, self.texts.default) if text else words.consent_text


def _label(value: dict[str, str] | str, language: str, default: str) -> str:
    if isinstance(value, str):
        return value
    return value.get(language) or value.get(language.split("-")[0]) or value.get(default) or next(iter(value.values()))


# -- rendering ------------------------------------------------------------------------------

def page(site: Site, request: Request, template: str, words: Words, *, status: int = 200,
         csrf: bool = False, **context: Any) -> HTMLResponse:
    """A page in ``words``' language. With ``csrf`` the form gets a token tied to a cookie
    (a new cookie when the browser has none)."""
    cookie = request.cookies.get(CSRF_COOKIE) if csrf else None
    new_cookie = None
    if csrf and (not cookie or len(cookie) > 64):
        cookie = new_cookie = Csrf.new_cookie()
    org = site.ws.settings.organisation
    html = site.env.get_template(template).render(
        w=words, dir="rtl" if words.language.split("-")[0] in site.ws.settings.languages.rtl else "ltr",
        org=org, static=site.paths.static, csrf=site.csrf.field_for(cookie) if cookie else "",
        **context)
    response = HTMLResponse(html, status_code=status)
    if new_cookie:
        response.set_cookie(CSRF_COOKIE, new_cookie, max_age=86_400, path="/", httponly=True,
                            samesite="strict", secure=site.secure(request))
    return response


def message(site: Site, request: Request, words: Words, heading: str, *paragraphs: str,
            status: int = 200, links: list[dict[str, str]] | None = None) -> HTMLResponse:
    return page(site, request, "message.html", words, status=status, heading=heading,
                paragraphs=paragraphs, links=links or [])


def invalid(site: Site, request: Request, words: Words | None = None) -> HTMLResponse:
    words = words or site.texts.words(None)
    return message(site, request, words, words.invalid_title, words.invalid_text, status=400)


def _token(request: Request) -> str:
    return request.query_params.get("token", "")[:512]


def _with_token(path: str, token: str) -> str:
    return f"{path}?token={token}"


async def _form(request: Request) -> dict[str, Any]:
    """The form's fields (urlencoded or multipart; files are refused by the size limit's
    neighbours: at most 50 fields, no uploads)."""
    form = await request.form(max_files=0, max_fields=50)
    out: dict[str, Any] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            out.setdefault(key, []).append(value[:1000])
    return out


def _one(form: dict[str, Any], key: str) -> str:
    values = form.get(key) or [""]
    return values[0].strip()


def _csrf_ok(site: Site, request: Request, form: dict[str, Any]) -> bool:
    return site.csrf.valid(request.cookies.get(CSRF_COOKIE), _one(form, CSRF_FIELD))


# -- unsubscribe (RFC 8058) -------------------------------------------------------------------

async def unsubscribe(request: Request) -> Response:
    """GET shows what the reader receives and a button; POST (whatever the body, RFC 8058
    one-click) unsubscribes, idempotently, answering 200 without a redirect or a cookie."""
    site: Site = request.app.state.site
    claim = tokens.check_token(site.keys, _token(request), site.list_id, tokens.UNSUBSCRIBE)
    if request.method == "POST":
        await request.body()  # read (and size-checked) whatever came: urlencoded, multipart, empty
    sid = _subscriber_id(claim)
    if sid is None:
        return invalid(site, request)
    if request.method != "POST":  # GET and HEAD only show
        return await _unsubscribe_page(site, request, sid)
    campaign = claim.claim if claim and claim.claim else None

    def work(signups: Signups) -> Any:
        try:
            return signups.store.unsubscribe(sid, "one-click", source="web: List-Unsubscribe", campaign=campaign)
        except DatabaseBusy:
            raise  # a server error (500), never "this link does not work"
        except SubscriberError:  # a genuine token for someone no longer in the database
            return None

    sub = await site.db.write(work)
    if sub is None:
        return invalid(site, request)
    words = site.texts.words(sub.language)
    return _unsubscribed(site, request, words, sub.email)


def _subscriber_id(claim: tokens.Claim | None) -> int | None:
    if claim is None or not claim.subject.isdigit():
        return None
    return int(claim.subject)


def _unsubscribed(site: Site, request: Request, words: Words, email: str) -> HTMLResponse:
    # No csrf (no cookie): RFC 8058 wants no cookie on the one-click answer.
    return message(site, request, words, words.unsubscribed_title,
                   words("unsubscribed_text", email=email, list=site.ws.settings.organisation.name),
                   links=[{"href": site.paths.signup + f"?lang={words.language}", "text": words.come_back}])


async def _unsubscribe_page(site: Site, request: Request, sid: int) -> Response:
    sub = await site.db.read(lambda s: s.store.get_by_id(sid))
    if sub is None:
        return invalid(site, request)
    words = site.texts.words(sub.language)
    org = site.ws.settings.organisation.name
    if not sub.is_subscribed:
        return message(site, request, words, words.unsubscribe_title,
                       words("already_unsubscribed", email=sub.email, list=org),
                       links=[{"href": site.paths.signup + f"?lang={words.language}", "text": words.come_back}])
    preferences = _with_token(site.paths.preferences,
                              tokens.make_token(site.keys, sid, site.list_id, tokens.PREFERENCES))
    topics = [t["label"] for t in site.topic_views(words, set(sub.tags)) if t["chosen"]]
    return page(site, request, "unsubscribe.html", words, sub=sub, topics=topics,
                action=_with_token(site.paths.unsubscribe, _token(request)), preferences_url=preferences)


# -- preferences ------------------------------------------------------------------------------

async def preferences(request: Request) -> Response:
    site: Site = request.app.state.site
    token = _token(request)
    sid = _subscriber_id(tokens.check_token(site.keys, token, site.list_id, tokens.PREFERENCES))
    form = await _form(request) if request.method == "POST" else {}
    if sid is None:
        return invalid(site, request)
    sub = await site.db.read(lambda s: s.store.get_by_id(sid))
    if sub is None:
        return invalid(site, request)
    words = site.texts.words(sub.language)
    if not sub.is_subscribed:
        return message(site, request, words, words.preferences_title,
                       words("already_unsubscribed", email=sub.email, list=site.ws.settings.organisation.name),
                       links=[{"href": site.paths.signup + f"?lang={words.language}", "text": words.come_back}])
    if request.method != "POST":
        return _preferences_page(site, request, words, sub, token)
    if not _csrf_ok(site, request, form):
        return _preferences_page(site, request, words, sub, token, error=words.error_form, status=403)
    if _one(form, "action") == "unsubscribe":
        done = await site.db.write(lambda s: s.store.unsubscribe(sid, "preferences page", source="web: preferences"))
        return _unsubscribed(site, request, site.texts.words(done.language), done.email)
    language = _one(form, "language") or sub.language or site.texts.default
    if language not in site.texts.offered:
        return _preferences_page(site, request, words, sub, token, error=words.error_language, status=400)
    offered = [t.tag for t in site.topics]
    chosen = [t for t in form.get("topic", []) if t in offered]
    sub = await site.db.write(lambda s: s.store.set_preferences(
        sid, language=language, tags=chosen, managed_tags=offered, source="web: preferences"))
    return _preferences_page(site, request, site.texts.words(sub.language), sub, token, saved=True)


def _preferences_page(site: Site, request: Request, words: Words, sub: Any, token: str, *,
                      saved: bool = False, error: str = "", status: int = 200) -> HTMLResponse:
    return page(site, request, "preferences.html", words, status=status, csrf=True, sub=sub,
                saved=saved, error=error, action=_with_token(site.paths.preferences, token),
                languages=site.texts.language_names(), current_language=site.texts.best([sub.language or ""]),
                topics=site.topic_views(words, set(sub.tags)))


# -- sign-up with double opt-in ----------------------------------------------------------------

async def signup(request: Request) -> Response:
    site: Site = request.app.state.site
    wanted = [request.query_params.get("lang", "")[:20]] if request.query_params.get("lang") else []
    words = site.texts.words(site.texts.best(wanted + accept_language(request.headers.get("accept-language"))))
    if request.method != "POST":
        defaults = {t.tag for t in site.topics if t.default}
        return _signup_page(site, request, words, {"language": words.language}, defaults)
    form = await _form(request)
    language = _one(form, "language")
    if language in site.texts.offered:
        words = site.texts.words(language)
    values = {"email": _one(form, "email")[:254], "name": _one(form, "name")[:200],
              "language": language or words.language, "consent": bool(_one(form, "consent"))}
    chosen = {t for t in form.get("topic", []) if t in {x.tag for x in site.topics}}
    if _one(form, "website"):
        # The honeypot: a person never fills it. Answer as if it worked; do nothing.
        return _sent(site, request, words, values["email"])
    if not _csrf_ok(site, request, form):
        # A form from another site (the embeddable snippet) or an old page: show it again,
        # filled in, with a fresh token; sending it from here is one more click.
        return _signup_page(site, request, words, values, chosen, errors=[words.error_form])
    errors, email = _check_signup(site, words, values)
    if errors:
        return _signup_page(site, request, words, values, chosen, errors=errors, status=400)
    client = site.client(request)
    if not site.signup_limit.allow(_rate_key(client)):
        return message(site, request, words, words.error_title, words.rate_limited, status=429)
    web = site.ws.settings.web
    consent = {"source": "web: sign-up form", "text_version": web.consent_version, "text_language": words.language,
               "text": site.consent_text(words), "ip": stored_ip(client, web.consent_ip),
               "topics_offered": [t.tag for t in site.topics]}
    now = site.clock()

    def work(signups: Signups) -> tuple[int, bool]:
        existing = signups.store.get(email)
        pending = signups.request(email=email, name=clean_name(values["name"]), language=words.language,
                                  tags=sorted(chosen), consent={k: v for k, v in consent.items() if v},
                                  now=now, lifetime=timedelta(hours=web.signup_expiry_hours))
        return pending.id, existing is not None and existing.status == "blocklisted"

    signup_id, blocked = await site.db.write(work)
    response = _sent(site, request, words, email)
    if not blocked:  # a blocklisted address gets no mail, and the page says the same as always
        token = tokens.make_confirm_token(site.keys, signup_id, site.list_id, int(now.timestamp()))
        url = f"{site.paths.public}/confirm?token={token}"
        response.background = BackgroundTask(site.mailer, words, email, values["name"], url, site.hours)
    return response


def _rate_key(client: str) -> str:
    """IPv6 users get a /64 each; counting single addresses would let one host rotate freely."""
    try:
        ip = ipaddress.ip_address(client)
    except ValueError:
        return client
    return str(ip) if ip.version == 4 else str(ipaddress.ip_network(f"{ip}/64", strict=False))


def _check_signup(site: Site, words: Words, values: dict[str, Any]) -> tuple[list[str], str]:
    errors, email = [], ""
    try:
        email = normalise_email(values["email"])
    except InvalidValue:
        errors.append(words.error_email)
    try:
        clean_name(values["name"])
    except InvalidValue as exc:
        errors.append(exc.reason)
    try:
        language = normalise_language(values["language"])
    except InvalidValue:
        language = None
    if language not in site.texts.offered:
        errors.append(words.error_language)
    if not values["consent"]:
        errors.append(words.error_consent)
    return errors, email


def _signup_page(site: Site, request: Request, words: Words, values: dict[str, Any], chosen: set[str], *,
                 errors: list[str] | None = None, status: int = 200) -> HTMLResponse:
    form = {"email": "", "name": "", "consent": False, **values}
    return page(site, request, "signup.html", words, status=status, csrf=True, errors=errors or [],
                form=form, **form_context(site, words, chosen))


def form_context(site: Site, words: Words, chosen: set[str]) -> dict[str, Any]:
    """What form.html needs besides the values (also for `serve --print-form`)."""
    return {"signup_action": site.paths.signup, "languages": site.texts.language_names(),
            "topics": site.topic_views(words, chosen), "consent_text": site.consent_text(words),
            "consent_version": site.ws.settings.web.consent_version}


def _sent(site: Site, request: Request, words: Words, email: str) -> HTMLResponse:
    return message(site, request, words, words.signup_sent_title,
                   words("signup_sent_text", email=email, hours=site.hours))


async def confirm(request: Request) -> Response:
    """GET shows a button (mail scanners open links); POST with the form's CSRF token confirms."""
    site: Site = request.app.state.site
    token = _token(request)
    claim = tokens.check_token(site.keys, token, site.list_id, tokens.CONFIRM, now=site.clock().timestamp(),
                               max_age=site.ws.settings.web.signup_expiry_hours * 3600)
    form = await _form(request) if request.method == "POST" else {}
    sid = _subscriber_id(claim)
    if sid is None:
        return invalid(site, request)
    now = site.clock()
    pending = await site.db.read(lambda s: s.pending(sid, now))
    if pending is None:
        return invalid(site, request)
    words = site.texts.words(pending.language)
    action = _with_token(site.paths.confirm, token)
    if request.method != "POST":
        return page(site, request, "confirm.html", words, csrf=True, email=pending.email, action=action)
    if not _csrf_ok(site, request, form):
        return page(site, request, "confirm.html", words, csrf=True, email=pending.email, action=action,
                    error=words.error_form, status=403)
    ip = stored_ip(site.client(request), site.ws.settings.web.consent_ip)
    done = await site.db.write(lambda s: s.confirm(sid, now=now, confirm_ip=ip))
    if done is None:
        return invalid(site, request, words)
    return message(site, request, words, words.confirmed_title,
                   words("confirmed_text", email=pending.email, list=site.ws.settings.organisation.name))


# -- the rest ---------------------------------------------------------------------------------

async def healthz(request: Request) -> Response:
    """For the load balancer or systemd watchdog: the database answers."""
    site: Site = request.app.state.site
    await site.db.read(lambda s: s.store.status_counts())
    return JSONResponse({"status": "ok"})

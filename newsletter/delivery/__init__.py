"""Delivery adapters only, one file each behind ``base.Adapter`` (outbox, console, smtp, ses).
``get_adapter`` chooses one by name. In: message bytes and an envelope; out: a per-recipient result."""
from __future__ import annotations

from typing import Any, Callable

from newsletter.core.config import Workspace
from newsletter.core.errors import ConfigError
from newsletter.core.validation import suggest
from newsletter.delivery.base import Adapter, AdapterError, ConnectionLost, SendResult, Status
from newsletter.delivery.console import ConsoleAdapter
from newsletter.delivery.outbox import OutboxAdapter
from newsletter.delivery.ses import SesAdapter, SesConfig
from newsletter.delivery.smtp import SmtpAdapter, parse_smtp_url

__all__ = ["Adapter", "AdapterError", "ConnectionLost", "SendResult", "Status", "get_adapter",
           "ADAPTERS"]


def _outbox(ws: Workspace, **options: Any) -> Adapter:
    return OutboxAdapter(options.get("directory") or ws.outbox_dir)


def _console(ws: Workspace, **options: Any) -> Adapter:
    return ConsoleAdapter(options.get("stream"))


def _smtp(ws: Workspace, **options: Any) -> Adapter:
    url = options.get("url") or ws.secrets.smtp_url
    if not url:
        raise ConfigError("the smtp adapter needs a server: set delivery.smtp_url in newsletter.yaml "
                          "(e.g. smtp+starttls://user@mail.example.org:587) or NEWSLETTER_SMTP_URL")
    delivery = ws.settings.delivery
    config = parse_smtp_url(url, password=ws.secrets.smtp_password,
                            timeout=options.get("timeout") or delivery.timeout_seconds)
    return SmtpAdapter(config, connections=options.get("connections") or delivery.connections,
                       ssl_context=options.get("ssl_context"))


def _ses(ws: Workspace, **options: Any) -> Adapter:
    ses, delivery = ws.settings.ses, ws.settings.delivery
    config = SesConfig(region=options.get("region") or ses.region,
                       configuration_set=ses.configuration_set,
                       max_send_rate=options.get("max_send_rate") or ses.max_send_rate,
                       endpoint_url=options.get("endpoint_url") or ses.endpoint_url,
                       timeout=options.get("timeout") or delivery.timeout_seconds)
    return SesAdapter(config, session=options.get("session"))


ADAPTERS: dict[str, Callable[..., Adapter]] = {"outbox": _outbox, "smtp": _smtp, "console": _console,
                                               "ses": _ses}


def get_adapter(name: str, ws: Workspace, **options: Any) -> Adapter:
    """The adapter called ``name``, configured from the workspace; ``options`` override
    (outbox: directory; console: stream; smtp: url, connections, timeout, ssl_context;
    ses: region, endpoint_url, max_send_rate, timeout, session)."""
    try:
        factory = ADAPTERS[name]
    except KeyError:
        raise ConfigError(f"unknown adapter {name!r}{suggest(name, ADAPTERS)}; "
                          f"expected one of: {', '.join(ADAPTERS)}") from None
    return factory(ws, **options)

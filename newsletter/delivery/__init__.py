"""Delivery adapters only, one file each behind ``base.Adapter`` (outbox, console, smtp).
``get_adapter`` chooses one by name. In: message bytes and an envelope; out: a per-recipient result."""
from __future__ import annotations

from typing import Any, Callable

from newsletter.core.config import Workspace
from newsletter.core.errors import ConfigError
from newsletter.core.validation import suggest
from newsletter.delivery.base import Adapter, AdapterError, ConnectionLost, SendResult
from newsletter.delivery.replies import Verdict, classify, classify_status
from newsletter.delivery.states import RecipientState
from newsletter.delivery.console import ConsoleAdapter
from newsletter.delivery.outbox import OutboxAdapter
from newsletter.delivery.smtp import SmtpAdapter, Timeouts, parse_smtp_url, tls_context

__all__ = ["Adapter", "AdapterError", "ConnectionLost", "RecipientState", "SendResult", "Verdict",
           "classify", "classify_status", "get_adapter", "ADAPTERS"]


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
    timeouts = Timeouts(connect=delivery.timeout_seconds, **delivery.timeouts.model_dump())
    config = parse_smtp_url(url, password=ws.secrets.smtp_password, timeout=options.get("timeout"),
                            timeouts=timeouts)
    ca_file = delivery.smtp_ca_file
    if ca_file is not None and not ca_file.is_absolute():
        ca_file = ws.root / ca_file
    return SmtpAdapter(config, connections=options.get("connections") or delivery.connections,
                       ssl_context=options.get("ssl_context") or tls_context(ca_file))


ADAPTERS: dict[str, Callable[..., Adapter]] = {"outbox": _outbox, "smtp": _smtp, "console": _console}


def get_adapter(name: str, ws: Workspace, **options: Any) -> Adapter:
    """The adapter called ``name``, configured from the workspace; ``options`` override
    (outbox: directory; console: stream; smtp: url, connections, timeout, ssl_context)."""
    try:
        factory = ADAPTERS[name]
    except KeyError:
        raise ConfigError(f"unknown adapter {name!r}{suggest(name, ADAPTERS)}; "
                          f"expected one of: {', '.join(ADAPTERS)}") from None
    return factory(ws, **options)

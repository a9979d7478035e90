"""Delivery adapters only, one file each behind ``base.Adapter`` (outbox, console, smtp, ses).
``get_adapter`` chooses one by name. In: message bytes and an envelope; out: a per-recipient result.

The names live in ``newsletter.core.adapters.ADAPTERS`` (settings validate ``delivery.adapter``
against them); each maps to its module's ``from_workspace`` factory, imported on first use.
"""
from __future__ import annotations

import importlib
from typing import Any

from newsletter.core.adapters import ADAPTERS
from newsletter.core.config import Workspace
from newsletter.core.errors import ConfigError
from newsletter.core.validation import suggest
from newsletter.delivery.base import Adapter, AdapterError, ConnectionLost, SendResult, Status
from newsletter.delivery.replies import Verdict, classify, classify_status
from newsletter.delivery.states import RecipientState

__all__ = ["Adapter", "AdapterError", "ConnectionLost", "RecipientState", "SendResult", "Status", "Verdict",
           "classify", "classify_status", "get_adapter", "ADAPTERS"]


def get_adapter(name: str, ws: Workspace, **options: Any) -> Adapter:
    """The adapter called ``name``, configured from the workspace; ``options`` override
    (outbox: directory; console: stream; smtp: url, connections, timeout, ssl_context;
    ses: region, endpoint_url, max_send_rate, timeout, session)."""
    try:
        module_name, _, factory = ADAPTERS[name].partition(":")
    except KeyError:
        raise ConfigError(f"unknown adapter {name!r}{suggest(name, ADAPTERS)}; "
                          f"expected one of: {', '.join(ADAPTERS)}") from None
    return getattr(importlib.import_module(module_name), factory)(ws, **options)

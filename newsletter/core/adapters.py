"""The delivery adapters' names, in the one place both settings and delivery read them.

Settings (core) validate ``delivery.adapter`` against these names, and ``newsletter.delivery``
resolves a name to its factory by importing the module named here. Core must not import
delivery (the layers run the other way), so the registry is a table of names and dotted paths,
not of objects; delivery imports an adapter's module only when that adapter is used.

To add an adapter: write ``newsletter/delivery/<name>.py`` with a
``from_workspace(ws, **options) -> Adapter`` function and add one line here.
"""
from __future__ import annotations

ADAPTERS: dict[str, str] = {
    "outbox": "newsletter.delivery.outbox:from_workspace",
    "smtp": "newsletter.delivery.smtp:from_workspace",
    "console": "newsletter.delivery.console:from_workspace",
    "ses": "newsletter.delivery.ses:from_workspace",
}

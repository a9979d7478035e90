"""The double opt-in message: rendered through the theme (confirm.mjml.j2 and confirm.txt.j2,
which a workspace can override like any theme file) in the reader's language, HTML and text,
and sent through the workspace's configured delivery adapter."""
from __future__ import annotations

import logging
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from types import SimpleNamespace

from newsletter.core.config import Workspace
from newsletter.delivery import get_adapter
from newsletter.render.context import is_rtl
from newsletter.render.mjml import to_html
from newsletter.render.templates import run, theme_environment
from newsletter.web.i18n import Words

log = logging.getLogger(__name__)
HTML_TEMPLATE = "confirm.mjml.j2"
TEXT_TEMPLATE = "confirm.txt.j2"


def confirmation_message(ws: Workspace, words: Words, *, to: str, name: str, confirm_url: str,
                         hours: int, now: datetime) -> EmailMessage:
    """The message as the standard library builds it (one message, not a campaign: no need
    for the composer's per-recipient speed)."""
    settings = ws.settings
    org = settings.organisation
    subject = words("mail_subject", list=org.name)
    context = {
        "lang": words.language, "dir": "rtl" if is_rtl(ws, words.language) else "ltr",
        "rtl": is_rtl(ws, words.language), "subject": subject, "preheader": words("mail_intro", list=org.name),
        "w": words, "confirm_url": confirm_url, "hours": hours,
        "org": SimpleNamespace(name=org.name, postal_address=org.postal_address, website=org.website,
                               logo=org.logo if org.logo and org.logo.startswith("https://") else None),
    }
    env = theme_environment(ws)
    html = to_html(run(ws, env, HTML_TEMPLATE, context))
    text = run(ws, env, TEXT_TEMPLATE, context).strip() + "\n"
    msg = EmailMessage()
    msg["From"] = Address(settings.sender.from_name, addr_spec=settings.sender.from_address)
    msg["To"] = Address(name, addr_spec=to) if name else to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid(domain=settings.msgid_domain)
    if settings.sender.reply_to:
        msg["Reply-To"] = settings.sender.reply_to
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg


def send_confirmation(ws: Workspace, message: EmailMessage, to: str) -> None:
    """Hand the message to the configured adapter (blocking: run it in a thread). A failure
    is logged, never shown: the page must not tell whether an address got a message."""
    try:
        with get_adapter(ws.settings.delivery.adapter, ws) as adapter:
            results = adapter.send(message.as_bytes(policy=SMTP), ws.settings.sender.from_address, [to])
        for result in results:
            if result.status.value != "sent":
                log.warning("confirmation message not delivered: %s %s", result.status.value, result.reply or "")
    except Exception:
        log.exception("sending a confirmation message failed")

"""The same message as ``Composer.compose`` builds, built with the standard library's
``EmailMessage`` instead. Tests compare the two; the benchmark times them."""
from __future__ import annotations

import html
import re
from email import policy as email_policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Mapping

from newsletter.compose.composer import Composer, RecipientLike, recipient_address
from newsletter.compose.headers import header_text, phrase_words
from newsletter.compose.rewrap import filled_text
from newsletter.content.merge import token_re

def fill(template: str, values: Mapping[int, str], escape: bool = False,
         placeholders: re.Pattern[str] = token_re()) -> str:
    """``template`` with every placeholder replaced (HTML-escaped when ``escape``)."""
    conv = html.escape if escape else str
    return placeholders.sub(lambda m: conv(values[int(m.group(1))]), template)


def reference_message(composer: Composer, recipient: RecipientLike, *, folded: bool = True) -> bytes:
    """What ``composer.compose(recipient)`` builds, built with ``EmailMessage`` instead: the
    same values (filled the same way) encoded and serialised by the standard library. Tests
    compare the two; the benchmark times them.

    ``folded=False`` serialises without folding header lines. The tests use it because the
    standard library's folding (3.11) has bugs that would make the reference the wrong one:
    a long display name holding ``:`` loses its quotes (so ``Bcc: ...`` in a name turns into
    group syntax), and a space next to a non-ASCII space can disappear."""
    site, variant = composer._site, composer.variant
    fields = composer.fields_for(recipient)
    msg = EmailMessage(policy=email_policy.SMTP)
    msg["Date"] = format_datetime(composer._clock())
    msg["From"] = Address(site.from_name, addr_spec=site.from_address)
    msg["To"] = Address(header_text(recipient.name or ""), addr_spec=recipient_address(recipient))
    msg["Subject"] = composer.subject_for(fields)
    msg["Message-ID"] = composer.message_id(recipient)
    if site.reply_to:
        msg["Reply-To"] = site.reply_to
    msg["List-Id"] = " ".join([*phrase_words(site.list_name), f"<{site.list_id}>"])
    msg["List-Unsubscribe"] = composer.list_unsubscribe(fields)
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["Precedence"] = "bulk"
    msg.set_content(filled_text(variant.text, variant.token_re, composer._fields, fields.values, variant.salt),
                    cte="quoted-printable")
    msg.add_alternative(fill(variant.html, fields.values, escape=True, placeholders=variant.token_re), subtype="html",
                        cte="quoted-printable")
    # add_alternative leaves a MIME-Version header in the new part; it belongs only on top.
    del msg.get_payload()[1]["MIME-Version"]
    return msg.as_bytes(policy=msg.policy if folded else msg.policy.clone(max_line_length=None))

""""Add to calendar" for every event: the public ``.ics`` file's name and a Google Calendar link.

Names and links are computed here, from the edition alone, so that the email, the archive
page and `newsletter publish` (which writes the files, see publish/calendar.py) agree. A file
name is made from the event's date and default-language title, not its position, so adding
an event never moves another one's file under an email already sent.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlencode

from newsletter.content import merge
from newsletter.content.loader import LoadedEdition
from newsletter.content.model import Event, text_for

CALENDAR_DIR = "calendar"
GOOGLE = "https://calendar.google.com/calendar/render"


@dataclass(frozen=True)
class EventEntry:
    """One event of an edition: the model, the block it is in, and its file's stem."""

    event: Event
    block: int
    audience: str | None
    stem: str

    def ics_name(self, language: str) -> str:
        """The path of its .ics file under the edition's folder on the site."""
        return f"{CALENDAR_DIR}/{self.stem}.{language}.ics"


def edition_events(loaded: LoadedEdition) -> list[EventEntry]:
    """Every event of the edition in reading order, each with a unique, stable file stem."""
    out: list[EventEntry] = []
    seen: set[str] = set()
    for i, block in enumerate(loaded.edition.blocks):
        for event in getattr(block, "events", None) or ():
            base = f"{event.start:%Y-%m-%d}-{slug(plain(event.title, loaded.default_language, loaded.default_language))}"
            stem, n = base, 2
            while stem in seen:
                stem, n = f"{base}-{n}", n + 1
            seen.add(stem)
            out.append(EventEntry(event, i, block.audience, stem))
    return out


def slug(text: str, limit: int = 48) -> str:
    """ASCII words joined by hyphens: 'Peer-Learning „Offene Türen“' -> 'peer-learning-offene-turen'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return words[:limit].rstrip("-") or "event"


def plain(value: dict[str, str] | None, language: str, default: str) -> str:
    """An editor's text in ``language`` with every merge field at its default (nobody in
    particular reads a calendar entry)."""
    text = text_for(value, language, default)
    out, last = [], 0
    for field in merge.parse(text, _any_attributes(text)):
        out += [text[last:field.start], field.default]
        last = field.end
    return "".join(out + [text[last:]])


def _any_attributes(text: str) -> list[str]:
    # Validation already checked the attribute names; accept whichever the text uses.
    return re.findall(r"attributes\.([A-Za-z_][A-Za-z0-9_]*)", text)


def end_of(event: Event) -> dt.datetime:
    """The end, or one hour after the start when the editor gave none."""
    return event.end or event.start + dt.timedelta(hours=1)


def google_url(event: Event, language: str, default: str, details: str = "") -> str:
    """A Google Calendar "add event" link in the event's own time zone."""
    params = {
        "action": "TEMPLATE",
        "text": plain(event.title, language, default),
        "dates": f"{event.start:%Y%m%dT%H%M%S}/{end_of(event):%Y%m%dT%H%M%S}",
        "ctz": event.timezone,
    }
    where = plain(event.place, language, default) if event.place else (event.online or "")
    if where:
        params["location"] = where
    text = details or plain(event.description, language, default)
    link = event.registration or event.online
    if link:
        text = f"{text}\n\n{link}".strip()
    if text:
        params["details"] = text
    return f"{GOOGLE}?{urlencode(params)}"

"""One ``.ics`` file (RFC 5545) per public event and language, with its time zone.

The UID is the same in every language (it is one event), DTSTAMP is the edition's date
(the same input gives the same bytes), and the VTIMEZONE covers the years around the event
rather than 1970 to 2038, so the file stays small.
"""
from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import icalendar

from newsletter.content.loader import LoadedEdition
from newsletter.core.config import Workspace
from newsletter.render.calendar import EventEntry, end_of, plain

PRODID = "-//newsletter//publish//EN"


def ics_file(ws: Workspace, loaded: LoadedEdition, entry: EventEntry, language: str, page_url: str) -> bytes:
    """The calendar file of one event in one language; ``page_url`` is its archive page."""
    event, default = entry.event, loaded.default_language
    start, end = event.zoned()
    end = end or start + (end_of(event) - event.start)
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    item = icalendar.Event()
    host = urlsplit(ws.settings.urls.archive).hostname or ws.settings.list_id
    item.add("uid", f"{loaded.name}-{entry.stem}@{host}")
    item.add("dtstamp", dt.datetime.combine(loaded.edition.date, dt.time(), dt.timezone.utc))
    item.add("dtstart", start)
    item.add("dtend", end)
    item.add("summary", plain(event.title, language, default))
    where = plain(event.place, language, default) if event.place else event.online
    if where:
        item.add("location", where)
    description = plain(event.description, language, default)
    links = [u for u in (event.online, event.registration) if u]
    text = "\n\n".join([description] * bool(description) + links)
    if text:
        item.add("description", text)
    item.add("url", event.registration or event.online or page_url)
    item.add("organizer", f"mailto:{ws.settings.sender.from_address}",
             parameters={"CN": ws.settings.organisation.name})
    if event.timezone != "UTC":  # the zone's rules first, then the event that uses them
        cal.add_component(icalendar.Timezone.from_tzid(
            event.timezone, first_date=dt.date(start.year - 1, 1, 1), last_date=dt.date(end.year + 1, 12, 31)))
    cal.add_component(item)
    return cal.to_ical()

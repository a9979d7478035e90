"""Dates and times of events in the reader's language, from the theme's strings.yaml.

No locale module: the process locale differs between machines, and rendering must give the
same bytes everywhere. Month and weekday names and the date pattern come from the theme.
"""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from newsletter.content.model import Event


def format_date(day: dt.date, words: SimpleNamespace) -> str:
    """'Friday 20 November 2026' (pattern and names from strings.yaml)."""
    return words.date_format.format(
        weekday=words.weekdays[day.weekday()], day=day.day,
        month=words.months[day.month - 1], year=day.year,
    )


def format_time(moment: dt.datetime) -> str:
    return f"{moment:%H:%M}"


def zone_label(event: Event) -> str:
    """'CET (Europe/Berlin)', or just 'UTC': the abbreviation readers know and the zone
    that settles any doubt (abbreviations like 'CST' are ambiguous)."""
    start, _ = event.zoned()
    abbr = start.tzname() or ""
    if not abbr.isalpha() or abbr == event.timezone:
        return event.timezone
    return f"{abbr} ({event.timezone})"


def when(event: Event, words: SimpleNamespace) -> str:
    """The whole date and time range of an event with its time zone, e.g.
    'Thursday 26 November 2026, 17:00–19:00 UTC' or, over several days,
    'Friday 20 November 2026, 10:00 – Saturday 21 November 2026, 16:00 CET (Europe/Berlin)'."""
    start, end = event.zoned()
    first = f"{format_date(start.date(), words)}, {format_time(start)}"
    zone = zone_label(event)
    if end is None:
        return f"{first} {zone}"
    if end.date() == start.date():
        return f"{first}\u2013{format_time(end)} {zone}"
    return f"{first} \u2013 {format_date(end.date(), words)}, {format_time(end)} {zone}"


def badge(event: Event, words: SimpleNamespace) -> tuple[str, str]:
    """The date badge of an event card: day of the month and short month name of its start
    ('20', 'Nov'); a theme without ``months_short`` gets the first three letters."""
    start, _ = event.zoned()
    short = getattr(words, "months_short", None)
    month = short[start.month - 1] if short else words.months[start.month - 1][:3]
    return str(start.day), month

"""Calendar files: one .ics per public event and language (RFC 5545, with its time zone),
and the "Add to calendar" links of the email and the archive page point at them."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import icalendar
from click.testing import CliRunner

from newsletter.cli import main
from newsletter.core.config import load_workspace
from newsletter.publish.site import build_site

from tests.support.samples import fixture_workspace

OPEN_DOORS = "2026-11/calendar/2026-11-20-peer-learning-exchange-open-doors"
TRAINING = "2026-11/calendar/2026-11-26-online-training-facilitating-a-welcoming-circle"
ACADEMY = "2026-11/calendar/2027-03-12-international-grassroots-academy-2027"


def site_files() -> dict[str, bytes]:
    ws = load_workspace(fixture_workspace("root"))
    return build_site(ws, ["2026-11"]).files


def event_of(data: bytes) -> tuple[icalendar.Calendar, icalendar.Event]:
    cal = icalendar.Calendar.from_ical(data)
    [event] = cal.walk("VEVENT")
    return cal, event


def test_ics_files_parse_with_the_right_start_end_and_time_zone() -> None:
    files = site_files()
    cal, event = event_of(files[f"{OPEN_DOORS}.de.ics"])
    assert cal["VERSION"] == "2.0" and cal["PRODID"]
    berlin = ZoneInfo("Europe/Berlin")
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start == dt.datetime(2026, 11, 20, 10, 0, tzinfo=berlin) and str(start.tzinfo) == "Europe/Berlin"
    assert end == dt.datetime(2026, 11, 21, 16, 0, tzinfo=berlin)
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    [zone] = cal.walk("VTIMEZONE")
    assert zone["TZID"] == "Europe/Berlin"
    assert str(event["SUMMARY"]) == "Peer-Learning-Austausch „Offene Türen“"
    assert str(event["LOCATION"]) == "Mütterzentrum Lindenhof, Stuttgart"
    assert "https://mcin.example.org/events/open-doors" in str(event["DESCRIPTION"])
    # The same event in every language: one UID; a stable stamp (the edition's date).
    _cal, english = event_of(files[f"{OPEN_DOORS}.en.ics"])
    assert english["UID"] == event["UID"] and str(english["SUMMARY"]).startswith("Peer-learning exchange")
    assert event.decoded("DTSTAMP") == dt.datetime(2026, 11, 5, tzinfo=dt.timezone.utc)


def test_utc_and_vienna_events_keep_their_zones() -> None:
    files = site_files()
    _cal, online = event_of(files[f"{TRAINING}.en.ics"])
    assert online.decoded("DTSTART") == dt.datetime(2026, 11, 26, 17, 0, tzinfo=dt.timezone.utc)
    assert online.decoded("DTEND") == dt.datetime(2026, 11, 26, 19, 0, tzinfo=dt.timezone.utc)
    assert str(online["LOCATION"]) == "https://meet.mcin.example.org/training-circle"
    cal, academy = event_of(files[f"{ACADEMY}.es.ics"])
    assert academy.decoded("DTSTART").utcoffset() == dt.timedelta(hours=1)            # CET in March
    assert academy.decoded("DTEND") == dt.datetime(2027, 3, 14, 13, 0, tzinfo=ZoneInfo("Europe/Vienna"))
    assert [z["TZID"] for z in cal.walk("VTIMEZONE")] == ["Europe/Vienna"]


def test_the_email_and_the_archive_link_the_published_ics_and_google_calendar(sample_ws: Path) -> None:
    result = CliRunner().invoke(main, ["-C", str(sample_ws), "build", "2026-11"])
    assert result.exit_code == 0, result.output
    html = (sample_ws / "build" / "2026-11" / "de" / "email.html").read_text(encoding="utf-8")
    text = (sample_ws / "build" / "2026-11" / "de" / "email.txt").read_text(encoding="utf-8")
    url = f"https://mcin.example.org/newsletter/{OPEN_DOORS}.de.ics"
    assert f'href="{url}"' in html and "In den Kalender" in html and url in text
    google = next(part.split('"')[0] for part in html.split('href="')[1:]
                  if part.startswith("https://calendar.google.com/") and "Offene" in part.split('"')[0])
    query = parse_qs(urlsplit(google.replace("&amp;", "&")).query)
    assert query["dates"] == ["20261120T100000/20261121T160000"] and query["ctz"] == ["Europe/Berlin"]
    assert query["text"] == ["Peer-Learning-Austausch „Offene Türen“"]
    files = site_files()
    assert f"{OPEN_DOORS}.de.ics" in files
    assert f'href="{url}"' in files["2026-11/de.html"].decode("utf-8")


def test_events_in_audience_blocks_get_no_public_file_only_a_google_link(kitchen_ws: Path) -> None:
    edition = kitchen_ws / "issues" / "2099-01" / "edition.yaml"
    text = edition.read_text(encoding="utf-8")
    edition.write_text(text.replace("  - type: events\n", "  - type: events\n    audience: leaders\n", 1), encoding="utf-8")
    ws = load_workspace(kitchen_ws)
    files = build_site(ws, ["2099-01"]).files
    assert not any("/calendar/" in name for name in files)
    result = CliRunner().invoke(main, ["-C", str(kitchen_ws), "build", "2099-01"])
    assert result.exit_code == 0, result.output
    html = (kitchen_ws / "build" / "2099-01" / "en+leaders" / "email.html").read_text(encoding="utf-8")
    assert "https://calendar.google.com/calendar/render?" in html and ".ics" not in html

"""One Atom feed (RFC 4287) per language of the archive.

Stable by construction: an entry's id is a tag URI made of the archive's host, the edition's
date and its path, and its date is the edition's date, so an unchanged edition keeps both for
ever and feed readers never show it as new again.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from newsletter.core.config import Workspace

ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class Entry:
    """One edition in one language, as the feed lists it."""

    edition: str
    language: str
    url: str
    title: str
    summary: str
    content: str
    date: dt.date
    number: int


def entry_id(ws: Workspace, entry: Entry) -> str:
    parts = urlsplit(ws.settings.urls.archive)
    path = parts.path.rstrip("/")
    return f"tag:{parts.hostname},{entry.date.isoformat()}:{path}/{entry.edition}/{entry.language}"


def _stamp(day: dt.date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def atom(ws: Workspace, language: str, entries: list[Entry], self_url: str, index_url: str) -> bytes:
    """The feed of one language, newest edition first (``entries`` come in that order)."""
    ET.register_namespace("", ATOM)
    org = ws.settings.organisation
    feed = ET.Element(f"{{{ATOM}}}feed", {XML_LANG: language})
    _text(feed, "id", self_url)
    _text(feed, "title", f"{org.name}")
    _text(feed, "updated", _stamp(max((e.date for e in entries), default=EPOCH)))
    _author(feed, org.name, org.website)
    _link(feed, "self", self_url, "application/atom+xml")
    _link(feed, "alternate", index_url, "text/html")
    for entry in entries:
        item = ET.SubElement(feed, f"{{{ATOM}}}entry")
        _text(item, "id", entry_id(ws, entry))
        _text(item, "title", entry.title)
        _text(item, "updated", _stamp(entry.date))
        _text(item, "published", _stamp(entry.date))
        _author(item, org.name, org.website)
        _link(item, "alternate", entry.url, "text/html", hreflang=entry.language)
        if entry.summary:
            _text(item, "summary", entry.summary)
        content = _text(item, "content", entry.content)
        content.set("type", "html")
    ET.indent(feed, space="  ")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"


def _text(parent: ET.Element, name: str, value: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{name}")
    element.text = value
    return element


def _author(parent: ET.Element, name: str, uri: str) -> None:
    author = ET.SubElement(parent, f"{{{ATOM}}}author")
    _text(author, "name", name)
    _text(author, "uri", uri)


def _link(parent: ET.Element, rel: str, href: str, kind: str, hreflang: str | None = None) -> None:
    attrs = {"rel": rel, "type": kind, "href": href}
    if hreflang:
        attrs["hreflang"] = hreflang
    ET.SubElement(parent, f"{{{ATOM}}}link", attrs)

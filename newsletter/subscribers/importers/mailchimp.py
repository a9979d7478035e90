"""Mailchimp audience exports: the ZIP ("Export Audience") or one of its CSVs.

The ZIP holds ``subscribed_members_export_*.csv``, ``unsubscribed_members_export_*.csv`` and
``cleaned_members_export_*.csv``. Columns: "Email Address", "First Name", "Last Name", your
own audience fields, then MEMBER_RATING, OPTIN_TIME, OPTIN_IP, CONFIRM_TIME, CONFIRM_IP,
LATITUDE, LONGITUDE, GMTOFF, DSTOFF, TIMEZONE, CC, REGION, LAST_CHANGED, LEID, EUID, NOTES,
TAGS; the unsubscribed file adds UNSUB_TIME, UNSUB_CAMPAIGN_TITLE, UNSUB_CAMPAIGN_ID,
UNSUB_REASON, UNSUB_REASON_OTHER and the cleaned file CLEAN_TIME, CLEAN_CAMPAIGN_TITLE,
CLEAN_CAMPAIGN_ID. Opt-in and confirmation become the consent record, CC the country, TAGS the
tags; every other non-empty column is kept as an attribute under its own name.
"""
from __future__ import annotations

import posixpath
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsletter.core.errors import SourceError
from newsletter.subscribers.importers.base import ATTR, CONSENT, FIELD, QUOTED_TAGS, CsvFormat, ColumnPlan
from newsletter.subscribers.importers.headers import field_for

EMAIL_COLUMN = "Email Address"
COLUMNS: dict[str, tuple[str, str]] = {
    "email address": (FIELD, "email"),
    "first name": (FIELD, "first_name"),
    "last name": (FIELD, "last_name"),
    "language": (FIELD, "language"),
    "cc": (FIELD, "country"),
    "tags": (QUOTED_TAGS, "tags"),
    "optin_time": (CONSENT, "time"),
    "optin_ip": (CONSENT, "ip"),
    "confirm_time": (CONSENT, "confirmed_at"),
    "confirm_ip": (CONSENT, "confirm_ip"),
    "unsub_time": (CONSENT, "withdrawn_at"),
    "unsub_reason": (CONSENT, "withdrawn_reason"),
}
# Columns Mailchimp adds to every export, in every account language: kept as attributes
# without a note, and (two of them) what tells a translated export from a plain CSV.
SYSTEM_COLUMNS = frozenset({
    "member_rating", "optin_time", "optin_ip", "confirm_time", "confirm_ip", "latitude", "longitude", "gmtoff",
    "dstoff", "timezone", "cc", "region", "last_changed", "leid", "euid", "notes", "tags", "unsub_time",
    "unsub_campaign_title", "unsub_campaign_id", "unsub_reason", "unsub_reason_other", "clean_time",
    "clean_campaign_title", "clean_campaign_id",
})
# Audience fields read as subscriber fields by their names in any language ("Vorname", "Land");
# the export's own CC (country) wins over an audience field for the country.
TRANSLATED_FIELDS = frozenset({"email", "first_name", "last_name", "language", "country"})
# The ZIP's files, in the order they are read: withdrawals first, so that someone in both the
# subscribed and the unsubscribed file lands unsubscribed and counts as one duplicate.
MEMBER_FILES = (("unsubscribed_", "unsubscribed"), ("cleaned_", "cleaned"), ("subscribed_", "subscribed"))


def looks_like(header: list[str]) -> bool:
    """A Mailchimp export: its email column, or (in an account in another language, which
    translates the audience fields) its own system columns beside an email column."""
    if EMAIL_COLUMN.lower() in {h.lower() for h in header}:
        return True
    return _has_system_columns(header) and any(field_for(h) == "email" for h in header)


def _has_system_columns(header: list[str]) -> bool:
    return len({h.lower() for h in header} & SYSTEM_COLUMNS) >= 2


def status_from(name: str, header: list[str]) -> str:
    """Which export a CSV is: from its file name, else from its columns."""
    base = posixpath.basename(name.replace("\\", "/")).lower()
    for prefix, status in MEMBER_FILES:
        if base.startswith(prefix):
            return status
    lower = {h.lower() for h in header}
    if "unsub_time" in lower:
        return "unsubscribed"
    if "clean_time" in lower:
        return "cleaned"
    return "subscribed"


class MailchimpCsv(CsvFormat):
    name = "mailchimp"

    def __init__(self, *args: Any, file_name: str = "", **kwargs: Any):
        super().__init__(*args, **kwargs)
        if not any(kind == FIELD and key == "email" for kind, key, _ in self.plan):
            raise self.header_error(f"no {EMAIL_COLUMN!r} column; the header has: {', '.join(self.input.header)} "
                                    "(translated column names can be mapped with --map-column)")
        self.status = status_from(file_name or self.label, self.input.header)
        self.default_consent = {}
        self.source = f"mailchimp: {posixpath.basename(file_name or self.label)}"

    def make_plan(self, header: list[str]) -> ColumnPlan:
        # Translated names only in a real export: a plain CSV forced with --format mailchimp
        # is refused for its missing email column, not read half right.
        translate = _translated if looks_like(header) else (lambda column: (ATTR, column))
        return [(*COLUMNS.get(column.lower(), translate(column)), column) for column in header]

    def explicit(self, kind: str, key: str, column: str) -> bool:
        return column.lower() in COLUMNS

    def deliberate(self, column: str) -> bool:
        return super().deliberate(column) or column.lower() in SYSTEM_COLUMNS

    def finish(self, values: dict[str, Any]) -> dict[str, Any]:
        values["status"] = self.status
        consent = values["consent"]
        consent.setdefault("source", self.source)
        consent.setdefault("method", "mailchimp-opt-in")
        return values  # created_at: the opt-in time (see importing.subscriber_from)


def _translated(column: str) -> tuple[str, str]:
    field = field_for(column)
    return (FIELD, field) if field in TRANSLATED_FIELDS else (ATTR, column)


@dataclass
class Member:
    """One CSV inside the ZIP."""

    name: str
    size: int
    status: str


def zip_members(path: Path, archive: zipfile.ZipFile) -> list[Member]:
    found = []
    for info in archive.infolist():
        base = posixpath.basename(info.filename).lower()
        if info.is_dir() or not base.endswith(".csv") or "members_export" not in base:
            continue
        found.append(Member(info.filename, info.file_size, status_from(base, [])))
    if not found:
        names = ", ".join(i.filename for i in archive.infolist()) or "nothing"
        raise SourceError(path, None, None, "this ZIP holds no Mailchimp member export "
                          f"(*_members_export*.csv); it holds: {names}")
    order = {status: i for i, (_, status) in enumerate(MEMBER_FILES)}
    return sorted(found, key=lambda m: (order[m.status], m.name))

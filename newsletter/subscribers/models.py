"""What a subscriber is, and how every value coming in from outside is checked and normalised.

All entry points (imports, ``subscribers add``, the store itself) go through these functions, so
an address or a name is normalised the same way whichever door it came through.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from newsletter.subscribers import names

STATUSES = ("subscribed", "unconfirmed", "unsubscribed", "cleaned", "blocklisted")
# Words other tools use for the same states.
STATUS_ALIASES = {
    "bounced": "cleaned", "blacklisted": "blocklisted", "blocked": "blocklisted",
    "pending": "unconfirmed", "confirmed": "subscribed", "active": "subscribed",
}
# Which status wins when two sources disagree: a withdrawal of consent always beats a
# subscription, so an import can never re-subscribe someone who left.
STATUS_RANK = {"unconfirmed": 0, "subscribed": 1, "cleaned": 2, "unsubscribed": 3, "blocklisted": 4}
SUPPRESSED = frozenset({"unsubscribed", "cleaned", "blocklisted"})

CONSENT_KEYS = (
    "source", "method", "time", "ip", "confirmed_at", "confirm_ip", "withdrawn_at", "withdrawn_reason",
)
CONSENT_TIMES = frozenset({"time", "confirmed_at", "withdrawn_at"})
MAX_NAME = 256
MAX_TAG = 100


class InvalidValue(ValueError):
    """One field of one incoming row is not acceptable; ``field`` says which."""

    def __init__(self, field_name: str, message: str):
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.reason = message


@dataclass
class Subscriber:
    """One person on the list. Times are ISO 8601 strings in UTC (``2026-01-31T09:00:00Z``)."""

    id: int | None
    email: str
    name: str = ""
    first_name: str = ""
    last_name: str = ""
    language: str | None = None
    country: str | None = None
    tags: list[str] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    status: str = "subscribed"
    consent: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""
    updated_at: str = ""
    bounces: int = 0

    @property
    def stored_id(self) -> int:
        """The id of a subscriber read from the store (one not stored yet has none)."""
        if self.id is None:
            raise ValueError(f"{self.email} is not stored yet")
        return self.id

    @property
    def key(self) -> str:
        return email_key(self.email)

    @property
    def confirmed_at(self) -> str | None:
        return self.consent.get("confirmed_at")

    @property
    def is_subscribed(self) -> bool:
        return self.status == "subscribed"

    def merge_data(self) -> dict[str, Any]:
        """The values merge fields and headers are built from."""
        return {
            "email": self.email, "name": self.name, "first_name": self.first_name,
            "last_name": self.last_name, "language": self.language, "country": self.country,
            "attributes": dict(self.attributes),
        }

    def copy(self, **changes: Any) -> "Subscriber":
        """A copy whose lists and dicts can be changed without touching this one."""
        base = Subscriber(self.id, self.email, self.name, self.first_name, self.last_name, self.language,
                          self.country, list(self.tags), dict(self.attributes), self.status,
                          dict(self.consent), self.created_at, self.updated_at, self.bounces)
        return replace(base, **changes) if changes else base


# --- e-mail addresses -------------------------------------------------------------------------

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# The common case (plain ASCII dot-atom, ordinary domain, TLD ending in a letter) is checked here, because
# email-validator costs ~30 us an address and a 100,000-row import should take seconds.
# Anything the pattern does not match goes to email-validator, which has the last word; a
# property test shows both give the same answer on the addresses the pattern accepts.
_FAST_EMAIL = re.compile(rf"({_ATEXT}(?:\.{_ATEXT})*)@((?:{_LABEL}\.)+[A-Za-z](?:[A-Za-z0-9-]{{0,61}}[A-Za-z])?)")


def normalise_email(value: str) -> str:
    """The address as stored: local part as written, domain in lower-case ASCII (IDNA)."""
    text = value.strip()
    if not text:
        raise InvalidValue("email", "is empty; every row needs an e-mail address")
    fast = _fast_email(text)
    if fast is not None:
        return fast
    validator = _email_validator()
    try:
        checked = validator.validate_email(text, check_deliverability=False)
    except validator.EmailNotValidError as exc:
        raise InvalidValue("email", f"{text!r} is not a valid e-mail address: {exc}") from None
    return f"{checked.local_part}@{checked.ascii_domain}"


def _fast_email(text: str) -> str | None:
    match = _FAST_EMAIL.fullmatch(text)
    if match is None or len(text) > 254 or len(match.group(1)) > 64:
        return None
    domain = match.group(2).lower()
    if len(domain) > 253 or "--" in domain:
        return None  # punycode labels and unusual lengths: let email-validator decide
    # Read at call time: email-validator documents this list as changeable by its users.
    if _special_use(tuple(_email_validator().SPECIAL_USE_DOMAIN_NAMES)).search(domain):
        return None
    return f"{match.group(1)}@{domain}"


_VALIDATOR: Any = None


def _email_validator() -> Any:
    """The email_validator module, imported on first use: segments import this module, and
    every build, check and preview reads segments without checking one address (importing
    email-validator and idna is about 25 ms of a command's start-up). Kept in a global because
    an import statement per address would cost a 100,000-row import a tenth of a second."""
    global _VALIDATOR
    if _VALIDATOR is None:
        import email_validator

        _VALIDATOR = email_validator
    return _VALIDATOR


@lru_cache(maxsize=4)
def _special_use(names: tuple[str, ...]) -> re.Pattern[str]:
    """Matches a domain that is one of ``names`` or ends in one of them."""
    if not names:
        return re.compile(r"(?!)")
    return re.compile(r"(?:^|\.)(?:" + "|".join(re.escape(n) for n in names) + r")$")


def email_key(email: str) -> str:
    """What makes two addresses the same person: the whole address, case-insensitively."""
    return email.lower()


# --- names and other text ---------------------------------------------------------------------

# Line breaks and tabs are what a spreadsheet cell may hold by accident: they become one space.
_BREAKS = re.compile(r"[\t\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# A MIME encoded-word (RFC 2047). Python 3.11.7's email package decodes one inside a display
# name when it folds the header, so '=?utf-8?q?=0ABcc:_x?=' would write a new header
# (CVE-2024-6923). No real name looks like this, so such a row is refused.
_ENCODED_WORD = re.compile(r"=\?.*\?=", re.S)
_SUSPECT = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]|=\?")


def clean_name(value: str | None, field_name: str = "name") -> str:
    """A name that is safe to put into a header: line breaks become spaces; any other
    control character or an encoded-word is refused."""
    if value is None:
        return ""
    text = str(value)
    if _SUSPECT.search(text) is None and len(text) <= MAX_NAME:
        return text.strip()  # the common case, checked with one search
    text = _BREAKS.sub(" ", text).strip()
    bad = _CONTROL.search(text)
    if bad:
        raise InvalidValue(field_name, f"contains the control character U+{ord(bad.group()):04X}; "
                                       "remove it (names go into e-mail headers)")
    if _ENCODED_WORD.search(text):
        raise InvalidValue(field_name, f"{text!r} looks like a MIME encoded-word (=?...?=), which could "
                                       "inject e-mail headers; write the name in plain letters")
    if len(text) > MAX_NAME:
        raise InvalidValue(field_name, f"is {len(text)} characters long; the limit is {MAX_NAME}")
    return text


_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


# Codes and tag lists repeat from row to row, so their checks are cached (bounded).
@lru_cache(maxsize=1024)
def normalise_language(value: str | None) -> str | None:
    """A language code ('de', 'pt-BR'), or a language's name in one of the network's languages
    ('Deutsch', 'German', 'alemán' -> 'de')."""
    if value is None or not str(value).strip():
        return None
    head, _, rest = str(value).strip().replace("_", "-").partition("-")
    text = head.lower() + (f"-{rest}" if rest else "")
    if _LANG.match(text):
        return text
    return _from_name("language", str(value).strip(), names.language_code(str(value)),
                      "a language code like 'en' or 'pt-BR', or a language's name like 'Deutsch'")


@lru_cache(maxsize=1024)
def normalise_country(value: str | None) -> str | None:
    """A two-letter country code ('DE'), or a country's name in one of the network's
    languages ('Deutschland', 'Germany', 'Alemania' -> 'DE')."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip().upper()
    if _COUNTRY.match(text):
        return text
    return _from_name("country", str(value).strip(), names.country_code(str(value)),
                      "a two-letter country code like 'DE', or a country's name like 'Deutschland'")


def _from_name(field_name: str, value: str, code: str | None, expected: str) -> str:
    if code == names.AMBIGUOUS:
        raise InvalidValue(field_name, f"{value!r} names more than one {field_name}; write its code instead")
    if code is None:
        raise InvalidValue(field_name, f"expected {expected}, got {value!r}")
    return code


def normalise_status(value: str | None, field_name: str = "status") -> str | None:
    if value in STATUSES:
        return value
    if value is None or not str(value).strip():
        return None
    text = str(value).strip().lower()
    text = STATUS_ALIASES.get(text, text)
    if text not in STATUSES:
        raise InvalidValue(field_name, f"expected one of {', '.join(STATUSES)}, got {value!r}")
    return text


_TAG_SPLIT = re.compile(r"[,;]")


def split_tags(value: str | None) -> list[str]:
    """'leader; member, partner' -> ['leader', ' member', ' partner'] (normalise_tags strips)."""
    if value is None:
        return []
    return _TAG_SPLIT.split(str(value))


_PLAIN_TAG = re.compile(r"[^\x00-\x1f\x7f-\x9f,;]{1,%d}" % MAX_TAG)


def normalise_tags(values: Any) -> list[str]:
    """Stripped, without empties or repeats, sorted."""
    if not isinstance(values, (list, tuple, set)):
        raise InvalidValue("tags", f"expected a list of tags, got {values!r}")
    try:
        return list(_normalised_tags(tuple(values)))
    except TypeError:  # an unhashable item: the uncached check names it
        return list(_normalised_tags.__wrapped__(tuple(values)))


@lru_cache(maxsize=4096)
def _normalised_tags(values: tuple[Any, ...]) -> tuple[str, ...]:
    out = set()
    for raw in values:
        if not isinstance(raw, str):
            raise InvalidValue("tags", f"expected text, got {raw!r}")
        tag = raw.strip()
        if not tag:
            continue
        if not _PLAIN_TAG.fullmatch(tag):
            if len(tag) > MAX_TAG:
                raise InvalidValue("tags", f"tag {tag[:20]!r}... is longer than {MAX_TAG} characters")
            raise InvalidValue("tags", f"tag {tag!r} may not hold a comma, semicolon or control character")
        out.add(tag)
    return tuple(sorted(out))


# --- times ------------------------------------------------------------------------------------

def iso(moment: dt.datetime) -> str:
    """A datetime as stored: UTC, whole seconds, 'Z'. Naive datetimes are taken as UTC."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc)
    return moment.replace(tzinfo=None, microsecond=0).isoformat() + "Z"


def parse_time(value: str | None, field_name: str) -> str | None:
    """'2024-03-01 10:00:00' (Mailchimp, UTC), ISO 8601 with or without offset, or a date."""
    if not value:
        return None
    text = value.strip() if isinstance(value, str) else str(value).strip()
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        if not text:
            return None
        raise InvalidValue(field_name, f"expected a date and time like 2024-03-01 10:00:00, got {text!r}") from None
    if len(text) == 19 and moment.tzinfo is None:
        return f"{text[:10]}T{text[11:]}Z"  # already UTC to the second: the common case, kept cheap
    return iso(moment)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


# --- consent ----------------------------------------------------------------------------------

def normalise_consent(values: dict[str, Any]) -> dict[str, Any]:
    """Known keys only; times normalised; empty values dropped."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key in CONSENT_TIMES:
            value = parse_time(value, f"consent.{key}")
        elif key not in CONSENT_KEYS:
            raise InvalidValue("consent", f"unknown consent key {key!r}; expected: {', '.join(CONSENT_KEYS)}")
        elif value is not None:
            value = value.strip() if isinstance(value, str) else str(value).strip()
        if value:
            out[key] = value
    return out


def differences(before: Subscriber, after: Subscriber) -> dict[str, list[Any]]:
    """What changed in the editable fields and the attributes, as ``{name: [before, after]}``
    (an attribute that is absent: None): for the record of an edit and for its output."""
    out: dict[str, list[Any]] = {}
    for name in ("name", "first_name", "last_name", "language", "country", "tags"):
        old, new = getattr(before, name), getattr(after, name)
        if old != new:
            out[name] = [old, new]
    for name in sorted(set(before.attributes) | set(after.attributes)):
        old, new = before.attributes.get(name), after.attributes.get(name)
        if old != new or (name in before.attributes) != (name in after.attributes):
            out[f"attributes.{name}"] = [old, new]
    return out


def display_name(first: str, last: str) -> str:
    return f"{first} {last}" if first and last else first or last

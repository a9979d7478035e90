"""Changing one person's fields and attributes (``subscribers edit EMAIL --set K=V --unset K``).

A name is read like a column of an imported spreadsheet (``first_name``, ``Vorname``,
``attributes.city``, ``score:json``; see importers/plaincsv.py), and a value is checked exactly
as an import checks it, so an edit cannot store what an import would refuse. One rule comes
first: an attribute the person already has is addressed by its own name, so that a stray
attribute "Vorname" left by an old import can be removed with ``--unset Vorname``.
Pure: the store writes the result and records the change (Store.edit).
"""
from __future__ import annotations

import difflib
import json
from typing import Any

from newsletter.subscribers.importers.base import ATTR, ATTR_JSON, FIELD, TAGS, canonical, parse_json
from newsletter.subscribers.importers.plaincsv import ALIASES, FIELDS, column_plan
from newsletter.subscribers.importing import check_attribute_name, check_value
from newsletter.subscribers.models import (InvalidValue, Subscriber, clean_name, display_name, normalise_country,
                                           normalise_language, normalise_tags, split_tags)

# Fields with a command of their own: changing them needs more than a new value.
ELSEWHERE = {
    "email": "an address cannot be changed; add the new address with 'subscribers add' and unsubscribe the old one",
    "status": "use 'subscribers unsubscribe' or 'subscribers resubscribe' (which records new consent)",
    "created_at": "the time someone joined is kept as it was recorded",
    "name_infix": "it is part of the family name: --set last_name=\"van der Berg\"",
}


def target(key: str, sub: Subscriber) -> tuple[str, str]:
    """What ``key`` names for this person: ("field", name) or ("attr", name) or
    ("attr_json", name). Raises InvalidValue for a name that cannot be edited."""
    key = key.strip()
    if key in sub.attributes and not _names_field(key):
        return ATTR, key
    kind, name, _ = column_plan(key)
    if kind == TAGS:
        kind = FIELD
    if kind == FIELD and name in ELSEWHERE:
        raise InvalidValue(name, ELSEWHERE[name])
    if kind not in (FIELD, ATTR, ATTR_JSON):
        raise InvalidValue(key, "the consent record and the attributes column cannot be edited one value at a time")
    if kind != FIELD:
        check_attribute_name(name)
    return kind, name


def _names_field(key: str) -> bool:
    name = canonical(key)
    return ALIASES.get(name, name) in FIELDS


def apply(sub: Subscriber, sets: list[tuple[str, str]], unsets: list[str]) -> Subscriber:
    """``sub`` with the values set and the names unset; the first bad one raises InvalidValue."""
    out = sub.copy()
    for key in unsets:
        _unset(out, key)
    for key, value in sets:
        _set(out, key, value)
    if out.name == display_name(sub.first_name, sub.last_name) and not _sets_name(sets, sub):
        out.name = display_name(out.first_name, out.last_name)  # a name made of first + last follows them
    return out


def _sets_name(sets: list[tuple[str, str]], sub: Subscriber) -> bool:
    return any(target(key, sub) == (FIELD, "name") for key, _ in sets)


def _set(sub: Subscriber, key: str, value: str) -> None:
    kind, name = target(key, sub)
    if kind == ATTR:
        sub.attributes[name] = check_value(name, value)
    elif kind == ATTR_JSON:
        sub.attributes[name] = check_value(name, parse_json(value, key))
    elif name in ("name", "first_name", "last_name"):
        setattr(sub, name, clean_name(value, name))
    elif name == "language":
        sub.language = normalise_language(value)
    elif name == "country":
        sub.country = normalise_country(value)
    else:
        sub.tags = normalise_tags(split_tags(value))


def _unset(sub: Subscriber, key: str) -> None:
    kind, name = target(key, sub)
    if kind != FIELD:
        if name not in sub.attributes:
            raise InvalidValue(key, f"no attribute or field of that name{_hint(name, sub)}")
        del sub.attributes[name]
    elif name in ("language", "country"):
        setattr(sub, name, None)
    elif name == "tags":
        sub.tags = []
    else:
        setattr(sub, name, "")


def _hint(name: str, sub: Subscriber) -> str:
    known = sorted(sub.attributes)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6) or [k for k in known if k.lower() == name.lower()]
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; its attributes: {', '.join(known)}" if known else "; it has no attributes"


def describe(changed: dict[str, list[Any]]) -> list[str]:
    return [f"  {name}: {_shown(old)} -> {_shown(new)}" for name, (old, new) in changed.items()]


def _shown(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "-"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)

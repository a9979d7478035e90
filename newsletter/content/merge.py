"""Merge fields: per-recipient values written into an editor's text.

Syntax (documented in docs/editions.md)::

    {{ first_name }}
    {{ first_name or "friends" }}
    {{ attributes.centre or "your Mother Centre" }}

``or`` has no colon, so the text stays valid in unquoted YAML. The Liquid-style
``{{ first_name | default: "friends" }}`` is accepted too.

Known fields: email, name, first_name, last_name, language, country, and
``attributes.<name>`` for each name listed under ``merge_attributes`` in newsletter.yaml.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from newsletter.core.validation import suggest

STANDARD_FIELDS = ("email", "name", "first_name", "last_name", "language", "country")
# Filled by composition for every recipient; not for editors to write.
LINK_FIELDS = ("unsubscribe_url", "preferences_url")
TOKEN_RE = re.compile(r"%%MF(\d+)%%")
MERGE_RE = re.compile(r"\{\{(.*?)\}\}", re.S)
_INNER = re.compile(
    r"""^\s*(?P<field>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)?)\s*
        (?:(?:\|\s*default\s*:|\s+or\b)\s*(?:"(?P<dq>[^"{}]*)"|'(?P<sq>[^'{}]*)')\s*)?$""",
    re.X,
)


@dataclass(frozen=True)
class MergeField:
    field: str
    default: str
    start: int
    end: int

    @property
    def key(self) -> tuple[str, str]:
        return (self.field, self.default)


class MergeSyntaxError(ValueError):
    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.offset = offset


def parse(text: str, attributes: Iterable[str] = ()) -> list[MergeField]:
    """Every merge field in ``text``; raises MergeSyntaxError for the first bad one."""
    known = list(STANDARD_FIELDS) + [f"attributes.{a}" for a in attributes]
    fields = []
    for match in MERGE_RE.finditer(text):
        inner = _INNER.match(match.group(1))
        if inner is None:
            raise MergeSyntaxError(
                f"cannot read merge field {match.group(0)!r}; write "
                '{{ first_name }} or {{ first_name or "friends" }}', match.start())
        name = inner.group("field")
        if name not in known:
            hint = suggest(name, known) or f"; known fields: {', '.join(known)}"
            raise MergeSyntaxError(f"unknown merge field {name!r}{hint}", match.start())
        default = inner.group("dq") if inner.group("dq") is not None else (inner.group("sq") or "")
        fields.append(MergeField(name, default, match.start(), match.end()))
    if "{{" in MERGE_RE.sub("", text):
        offset = MERGE_RE.sub(lambda m: " " * len(m.group(0)), text).index("{{")
        raise MergeSyntaxError("'{{' opens a merge field that is never closed with '}}'", offset)
    return fields


def value_for(field: MergeField, subscriber: dict) -> str:
    """The recipient's value for a field (raw, not escaped), or the field's default."""
    if field.field.startswith("attributes."):
        value = (subscriber.get("attributes") or {}).get(field.field.split(".", 1)[1])
    else:
        value = subscriber.get(field.field)
    if value is None or str(value).strip() == "":
        return field.default
    return str(value)


def token(index: int) -> str:
    """The placeholder left in rendered output for the ``index``-th merge field of a variant.
    Plain ASCII without Markdown, HTML or Jinja meaning, so it survives every rendering step."""
    return f"%%MF{index}%%"

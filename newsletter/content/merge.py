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
from typing import Callable, Iterable
from urllib.parse import quote

from newsletter.content.model import check_url
from newsletter.content.tags import STANDARD_FIELDS, ForeignTag, alias_for, foreign_tags  # noqa: F401 (re-exported)
from newsletter.core.validation import suggest

# Filled by composition for every recipient; not for editors to write.
LINK_FIELDS = ("unsubscribe_url", "preferences_url")
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
    # For a link (field URL_FIELD): the URL as written, holding the placeholders of the fields
    # it uses; ``default`` is then that URL filled with their defaults.
    template: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.field, self.default, self.template)


URL_FIELD = "url"


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
            alias = alias_for(name, known)
            hint = (f"; did you mean {{{{ {alias} }}}}?" if alias else
                    suggest(name, known) or f"; known fields: {', '.join(known)}")
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


def token(index: int, salt: str = "") -> str:
    """The placeholder left in rendered output for the ``index``-th merge field of a variant.
    Plain ASCII without Markdown, HTML or Jinja meaning, so it survives every rendering step.
    ``salt`` (capital letters) is chosen by rendering so that no editor's text can produce a
    placeholder (see ``render.fields``)."""
    return f"%%MF{salt}{index}%%"


def token_re(salt: str = "") -> re.Pattern[str]:
    """Matches the placeholders of one salt, and nothing an editor wrote (see ``token``)."""
    return re.compile(rf"%%MF{re.escape(salt)}(\d+)%%")


# -- links: merge values that become (part of) a URL -----------------------------------------
# A value that starts a URL decides where the link leads, so a recipient's value is used only
# when the filled URL is an http(s) or mailto link; a value inside a URL is percent-encoded,
# so it cannot end the query or change the host. Anything else falls back to the defaults.
def url_problem(url: str) -> str | None:
    """Why ``url`` may not be a link target in an email (None: it may)."""
    try:
        check_url(url)
    except ValueError as exc:
        return str(exc)
    return None


def fill_url(template: str, pattern: re.Pattern[str], value: Callable[[int], str]) -> str:
    """``template`` (a URL holding placeholders) with each placeholder replaced in one pass:
    the raw value where the placeholder starts the URL, percent-encoded anywhere else."""
    def one(match: re.Match[str]) -> str:
        raw = value(int(match.group(1)))
        return raw.strip() if match.start() == 0 else quote(raw, safe="")
    return pattern.sub(one, template)


def fill_defaults_in_url(url: str, fields: list[MergeField]) -> str:
    """``url`` as the web archive shows it: every merge field at its default (percent-encoded
    unless it starts the URL)."""
    out, last = [], 0
    for f in fields:
        out += [url[last:f.start], f.default.strip() if f.start == 0 else quote(f.default, safe="")]
        last = f.end
    return "".join(out + [url[last:]])


_CHECK_SALT = "CHECK"
_CHECK_TOKEN = token_re(_CHECK_SALT)
_CHECK_ENCODED = re.compile(rf"%25%25MF{_CHECK_SALT}(\d+)%25(?:%25|%(?=[0-9A-Fa-f]{{2}}))")


@dataclass
class CheckingText:
    """Offsets between a text and its placeholder form (``checking_text``), and the defaults."""

    fields: list[MergeField]
    shifts: list[tuple[int, int]]   # (offset in the placeholder form, offset in the text)

    def original(self, offset: int) -> int:
        new, old = max((shift for shift in self.shifts if shift[0] <= offset), default=(0, 0))
        return old + (offset - new)

    def expand(self, url: str) -> str:
        """A link target of the placeholder form with each field at its default."""
        url = _CHECK_ENCODED.sub(lambda m: token(int(m.group(1)), _CHECK_SALT), url)
        return fill_url(url, _CHECK_TOKEN, lambda i: self.fields[i].default)


def checking_text(text: str, fields: list[MergeField]) -> tuple[str, CheckingText]:
    """``text`` with its merge fields as placeholders, as rendering parses it, and the way
    back to the text's own offsets (for file:line:column)."""
    out, last, shifts, length = [], 0, [(0, 0)], 0
    for i, f in enumerate(fields):
        piece = text[last:f.start]
        out.append(piece)
        length += len(piece)
        placeholder = token(i, _CHECK_SALT)
        out.append(placeholder)
        shifts.append((length, f.start))
        length += len(placeholder)
        shifts.append((length, f.end))
        last = f.end
    out.append(text[last:])
    return "".join(out), CheckingText(fields, shifts)

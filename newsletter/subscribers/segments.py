"""Segments: named rules over subscriber fields, in ``subscribers/segments.yaml``.

A rule is ``{all: [rules]}``, ``{any: [rules]}``, ``{not: rule}`` or a leaf
``{field: F, OP: value}``. Each rule can both compile itself to a parameterised SQL condition
(``sql``) and evaluate itself on one Subscriber in plain Python (``matches``); a property test
holds the two to the same answer. Whatever a rule says, a segment only ever yields subscribed
people, and the segment ``all`` always exists. Format for editors: docs/segments.md.

Every leaf compiles to an expression that is 0 or 1, never NULL, so ``not`` means what it says
for people who have no language, no country or no such attribute. The SQL is SQLite's (its
JSON functions); a PostgreSQL store would compile the same rule objects with its own ``jsonb``
operators — the rules are data, the SQL is one way of reading them.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Callable, Iterator, Union

from pydantic import (BaseModel, ConfigDict, Discriminator, Field, PrivateAttr, Tag, TypeAdapter,
                      ValidationError, ValidationInfo, field_validator, model_validator)

from newsletter.core.config import Workspace
from newsletter.core.errors import SourceError, ValidationFailed
from newsletter.core.validation import errors_from_pydantic, suggest
from newsletter.core.yamlsrc import SourceMap, load_yaml
from newsletter.subscribers.models import (STATUSES, InvalidValue, Subscriber, iso, normalise_country, normalise_language,
                     normalise_status)

FIELD_OPERATORS: dict[str, tuple[str, ...]] = {
    "language": ("equals", "in", "exists"),
    "country": ("equals", "in", "exists"),
    "status": ("equals", "in"),
    "tags": ("contains", "in", "exists"),
    "created": ("before", "after"),
    "confirmed": ("before", "after", "exists"),
}
ATTRIBUTE_OPERATORS = ("equals", "in", "contains", "exists")
OPERATORS = ("equals", "in", "contains", "exists", "before", "after")
ALL = "all"
SEGMENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_ATTRIBUTE_NAME = re.compile(r'^[^"\\\x00-\x1f]{1,100}$')
# Column of each plain field (the table alias is always ``s``).
_COLUMNS = {"language": "s.language", "country": "s.country", "status": "s.status",
            "created": "s.created_at", "confirmed": "s.confirmed_at"}

SQL = tuple[str, list[Any]]


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    def sql(self) -> SQL:
        raise NotImplementedError

    def matches(self, subscriber: Subscriber) -> bool:
        raise NotImplementedError


class All(_Rule):
    """True when every rule in the list is true (an empty list: everyone)."""

    all: list["Rule"]

    def sql(self) -> SQL:
        return _join([r.sql() for r in self.all], "AND", "1")

    def matches(self, subscriber: Subscriber) -> bool:
        return all(r.matches(subscriber) for r in self.all)


class AnyOf(_Rule):
    """True when at least one rule in the list is true (an empty list: no one)."""

    any: list["Rule"]

    def sql(self) -> SQL:
        return _join([r.sql() for r in self.any], "OR", "0")

    def matches(self, subscriber: Subscriber) -> bool:
        return any(r.matches(subscriber) for r in self.any)


class Not(_Rule):
    """True when the rule is false."""

    not_: "Rule" = Field(alias="not")

    def sql(self) -> SQL:
        text, params = self.not_.sql()
        return f"(NOT {text})", params

    def matches(self, subscriber: Subscriber) -> bool:
        return not self.not_.matches(subscriber)


def _join(parts: list[SQL], word: str, empty: str) -> SQL:
    if not parts:
        return empty, []
    params: list[Any] = []
    for _, p in parts:
        params.extend(p)
    return "(" + f" {word} ".join(text for text, _ in parts) + ")", params


class Leaf(_Rule):
    """``{field: F, OP: value}`` with exactly one operator."""

    field: str = Field(description="language, country, tags, status, created, confirmed or attributes.<name>")
    equals: str | None = None
    in_: list[str] | None = Field(None, alias="in")
    contains: str | None = None
    exists: bool | None = None
    before: str | None = None
    after: str | None = None

    # A date alone ('2024-01-01') means the whole day: 'before' is before it starts and
    # 'after' is after it ends. The threshold is kept here as (SQL operator, ISO time).
    _time: tuple[str, str] | None = PrivateAttr(None)

    @field_validator("field")
    @classmethod
    def _known_field(cls, value: str) -> str:
        if value.startswith("attributes."):
            name = value[len("attributes."):]
            if not _ATTRIBUTE_NAME.match(name):
                raise ValueError(f"attribute name {name!r} is empty or holds a quote, backslash or control character")
            return value
        if value not in FIELD_OPERATORS:
            choices = list(FIELD_OPERATORS) + ["attributes.<name>"]
            hint = suggest(value, choices) or f"; expected one of: {', '.join(choices)}"
            raise ValueError(f"unknown field {value!r}{hint}")
        return value

    @field_validator("equals", "in_", "contains", "exists", "before", "after")
    @classmethod
    def _operator_fits(cls, value: Any, info: ValidationInfo) -> Any:
        op = "in" if info.field_name == "in_" else info.field_name
        field = info.data.get("field")
        if value is None or field is None:
            return value  # an unknown field is reported once, at 'field'
        allowed = operators_for(field)
        if op not in allowed:
            raise ValueError(f"operator {op!r} does not work on field {field!r}; use one of: {', '.join(allowed)}")
        return _normalise_value(field, op, value)

    @model_validator(mode="after")
    def _one_operator(self) -> "Leaf":
        given = [op for op in OPERATORS if getattr(self, _attr(op)) is not None]
        if len(given) != 1:
            field = self.field
            what = "no operator" if not given else f"{len(given)} operators ({', '.join(given)})"
            raise ValueError(f"a rule on {field!r} needs exactly one operator, got {what}; "
                             f"use one of: {', '.join(operators_for(field))}")
        if given[0] in ("before", "after"):
            self._time = _threshold(given[0], getattr(self, given[0]))
        return self

    @property
    def operator(self) -> str:
        return next(op for op in OPERATORS if getattr(self, _attr(op)) is not None)

    @property
    def value(self) -> Any:
        return getattr(self, _attr(self.operator))

    def sql(self) -> SQL:
        if self.field.startswith("attributes."):
            return _attribute_sql(self.field[len("attributes."):], self.operator, self.value)
        if self.field == "tags":
            return _tags_sql(self.operator, self.value)
        column = _COLUMNS[self.field]
        if self._time is not None:
            op, when = self._time
            return f"IFNULL({column} {op} ?, 0)", [when]
        return _column_sql(column, self.operator, self.value)

    def matches(self, subscriber: Subscriber) -> bool:
        if self.field.startswith("attributes."):
            return _attribute_matches(subscriber.attributes, self.field[len("attributes."):],
                                      self.operator, self.value)
        if self.field == "tags":
            return _tags_match(subscriber.tags, self.operator, self.value)
        current = _value_of(subscriber, self.field)
        if self._time is not None:
            op, when = self._time
            return current is not None and _compare(current, op, when)
        return _scalar_matches(current, self.operator, self.value)


def _attr(op: str) -> str:
    return "in_" if op == "in" else op


def operators_for(field: str) -> tuple[str, ...]:
    if field.startswith("attributes."):
        return ATTRIBUTE_OPERATORS
    return FIELD_OPERATORS.get(field, OPERATORS)


def _normalise_value(field: str, op: str, value: Any) -> Any:
    """Rule values are compared with stored values, so they get the same normalisation."""
    normalisers: dict[str, Callable[[str], str | None]] = {
        "language": normalise_language, "country": normalise_country, "status": normalise_status}
    norm = normalisers.get(field)
    if norm is None or op not in ("equals", "in"):
        if op in ("before", "after"):
            _threshold(op, value)  # raises on a bad date
        return value
    try:
        if op == "in":
            return [norm(v) for v in value]
        return norm(value)
    except InvalidValue as exc:
        raise ValueError(exc.reason) from None


def _threshold(op: str, value: str) -> tuple[str, str]:
    text = value.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = dt.date.fromisoformat(text)
            if op == "before":
                return "<", iso(dt.datetime.combine(day, dt.time()))
            return ">=", iso(dt.datetime.combine(day + dt.timedelta(days=1), dt.time()))
        moment = dt.datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        raise ValueError(f"expected a date like 2024-01-31 or a time like 2024-01-31 18:00, got {value!r}") from None
    return ("<" if op == "before" else ">"), iso(moment)


def _compare(current: str, op: str, when: str) -> bool:
    return {"<": current < when, ">": current > when, ">=": current >= when}[op]


def _value_of(subscriber: Subscriber, field: str) -> Any:
    if field == "created":
        return subscriber.created_at
    if field == "confirmed":
        return subscriber.confirmed_at
    return getattr(subscriber, field)


def _column_sql(column: str, op: str, value: Any) -> SQL:
    if op == "equals":
        return f"({column} IS ?)", [value]
    if op == "in":
        if not value:
            return "0", []
        return f"IFNULL({column} IN ({', '.join('?' * len(value))}), 0)", list(value)
    return (f"({column} IS NOT NULL)" if value else f"({column} IS NULL)"), []


def _scalar_matches(current: Any, op: str, value: Any) -> bool:
    if op == "equals":
        return current == value
    if op == "in":
        return current in value
    return (current is not None) == value


def _tags_sql(op: str, value: Any) -> SQL:
    if op == "exists":
        return ("(json_array_length(s.tags) > 0)" if value else "(json_array_length(s.tags) = 0)"), []
    values = [value] if op == "contains" else list(value)
    if not values:
        return "0", []
    marks = ", ".join("?" * len(values))
    return f"EXISTS (SELECT 1 FROM json_each(s.tags) AS t WHERE t.value IN ({marks}))", values


def _tags_match(tags: list[str], op: str, value: Any) -> bool:
    if op == "exists":
        return bool(tags) == value
    values = [value] if op == "contains" else value
    return any(tag in values for tag in tags)


def _attribute_sql(name: str, op: str, value: Any) -> SQL:
    path = f'$."{name}"'
    kind = "json_type(s.attributes, ?)"
    text = "json_extract(s.attributes, ?)"
    if op == "exists":
        sql = f"IFNULL({kind} <> 'null', 0)"
        return (sql if value else f"(NOT {sql})"), [path]
    if op == "equals":
        return f"IFNULL({kind} = 'text' AND {text} = ?, 0)", [path, path, value]
    if op == "in":
        if not value:
            return "0", []
        marks = ", ".join("?" * len(value))
        return f"IFNULL({kind} = 'text' AND {text} IN ({marks}), 0)", [path, path, *value]
    # contains: a text holding the value, or a list with the value as one of its items.
    sql = (f"IFNULL(({kind} = 'text' AND instr({text}, ?) > 0) OR ({kind} = 'array' AND EXISTS "
           f"(SELECT 1 FROM json_each(s.attributes, ?) AS a WHERE a.type = 'text' AND a.value = ?)), 0)")
    return sql, [path, path, value, path, path, value]


def _attribute_matches(attributes: dict[str, Any], name: str, op: str, value: Any) -> bool:
    current = attributes.get(name)
    if op == "exists":
        return (current is not None) == value
    if op == "equals":
        return isinstance(current, str) and current == value
    if op == "in":
        return isinstance(current, str) and current in value
    if isinstance(current, str):
        return value in current
    return isinstance(current, list) and any(isinstance(i, str) and i == value for i in current)


def _kind(value: Any) -> str | None:
    """Which kind of rule a mapping is, from its keys (for pydantic's tagged union)."""
    if isinstance(value, _Rule):
        return type(value).__name__
    if not isinstance(value, dict):
        return None
    for key, tag in (("all", "All"), ("any", "AnyOf"), ("not", "Not")):
        if key in value:
            return tag
    return "Leaf"


Rule = Annotated[
    Union[Annotated[All, Tag("All")], Annotated[AnyOf, Tag("AnyOf")],
          Annotated[Not, Tag("Not")], Annotated[Leaf, Tag("Leaf")]],
    Discriminator(_kind, custom_error_type="rule",
                  custom_error_message="expected a rule: {all: [...]}, {any: [...]}, {not: ...} "
                                       "or {field: ..., equals: ...}"),
]
All.model_rebuild()
AnyOf.model_rebuild()
Not.model_rebuild()
_RULE = TypeAdapter(Rule)


def parse_rule(data: Any) -> _Rule:
    """A rule from plain data (raises pydantic's ValidationError)."""
    return _RULE.validate_python(data)


class SegmentSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str | None = None
    rule: Rule


class SegmentsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    segments: dict[str, SegmentSpec]


@dataclass(frozen=True)
class Segment:
    name: str
    rule: _Rule
    description: str = ""

    def sql(self) -> SQL:
        """The SQLite condition (over table alias ``s``) and its parameters; the store adds
        ``status = 'subscribed'``."""
        return self.rule.sql()

    def matches(self, subscriber: Subscriber) -> bool:
        return subscriber.status == "subscribed" and self.rule.matches(subscriber)


EVERYONE = Segment(ALL, All(all=[]), "Everyone who is subscribed")


class Segments:
    """The segments of a workspace, ``all`` first."""

    def __init__(self, segments: list[Segment] | None = None, path: Path | None = None):
        self.path = path
        self._by_name: dict[str, Segment] = {ALL: EVERYONE}
        for seg in segments or []:
            self._by_name[seg.name] = seg

    @property
    def names(self) -> list[str]:
        return list(self._by_name)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[Segment]:
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)

    def get(self, name: str) -> Segment:
        """The segment called ``name``; KeyError with a helpful message otherwise."""
        try:
            return self._by_name[name]
        except KeyError:
            hint = suggest(name, self.names) or f"; segments: {', '.join(self.names)}"
            where = f" in {self.path}" if self.path else ""
            raise KeyError(f"unknown segment {name!r}{where}{hint}") from None


def load_segments(ws: Workspace) -> Segments:
    """Read subscribers/segments.yaml (no file: only ``all``). Raises ValidationFailed with
    every mistake at its file:line."""
    path = ws.segments_file
    if not path.is_file():
        return Segments(path=None)
    return read_segments(path)


def read_segments(path: Path) -> Segments:
    try:
        data, smap = load_yaml(path)
    except SourceError as err:
        raise ValidationFailed([err]) from None
    if not isinstance(data, dict) or not isinstance(data.get("segments"), dict):
        got = "nothing" if data is None else "something else"
        raise ValidationFailed([smap.error((), f"expected 'segments:' with one entry per segment, got {got}", "")])
    errors = _name_errors(data["segments"], smap) + _builtin_all_errors(data["segments"], smap)
    try:
        parsed = SegmentsFile.model_validate(data)
    except ValidationError as exc:
        errors += errors_from_pydantic(exc, smap, SegmentsFile, data)
    if errors:
        raise ValidationFailed(errors)
    # 'all' keeps its built-in rule (checked above) but may have its own description.
    return Segments([Segment(name, spec.rule, spec.description or (EVERYONE.description if name == ALL else ""))
                     for name, spec in parsed.segments.items()], path=path)


def _name_errors(segments: dict[str, Any], smap: SourceMap) -> list[SourceError]:
    return [smap.error(("segments", name), f"segment name {name!r} may hold only letters, digits, "
                       "'-' and '_' (at most 64)", f"segments.{name}")
            for name in segments if not SEGMENT_NAME.match(name)]


def _builtin_all_errors(segments: dict[str, Any], smap: SourceMap) -> list[SourceError]:
    spec = segments.get(ALL)
    rule = spec.get("rule") if isinstance(spec, dict) else None
    if spec is None or rule == {"all": []}:
        return []
    return [smap.error(("segments", ALL, "rule"), "'all' is built in and always means everyone "
                       "subscribed; give it the rule {all: []} or choose another name")]


__all__ = ["ALL", "All", "AnyOf", "Not", "Leaf", "Segment", "Segments", "EVERYONE", "load_segments",
           "read_segments", "parse_rule", "operators_for", "STATUSES"]


def segment_names(ws: Workspace) -> set[str]:
    """The segment names in subscribers/segments.yaml ('all' always exists); editions'
    ``audience`` values are checked against them."""
    return set(load_segments(ws).names)

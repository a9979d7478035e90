"""For random subscribers and random rules, the SQL the rule compiles to selects exactly the
people a plain-Python evaluation of the same rule selects."""
from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from newsletter.subscribers.models import STATUSES, Subscriber, iso
from newsletter.subscribers.segments import Segment, operators_for, parse_rule
from newsletter.subscribers.store import Store

LANGUAGES = [None, "en", "de", "es", "pt-BR"]
COUNTRIES = [None, "DE", "AR", "KE", "US"]
TAGS = ["leader", "member", "partner", "Ärztin", "x y"]
ATTRIBUTES = ["centre", "role", "Phone Number", "a.b"]
WORDS = ["", "Lyon", "lyon", "Mütterzentrum", "Ly", "ñ", "42", "centre"]
_BASE = dt.datetime(2019, 1, 1)
# Seconds from 2019 to 2027: cheaper to draw than st.datetimes, and the same values.
_TIMES = st.integers(0, 8 * 365 * 86400).map(lambda s: _BASE + dt.timedelta(seconds=s))

# JSON null first: an attribute that is present but null is the case SQL most easily gets wrong.
attribute_value = st.one_of(
    st.none(),
    st.sampled_from(WORDS + ["Lyon ñ", "yo"]),
    st.lists(st.sampled_from(WORDS + [7, 42]), max_size=3),
    st.sampled_from([0, 42, True, False]),
)


@st.composite
def subscribers(draw: st.DrawFn) -> Subscriber:
    confirmed = draw(st.none() | _TIMES)
    return Subscriber(
        id=None, email="",  # numbered by people()
        language=draw(st.sampled_from(LANGUAGES)), country=draw(st.sampled_from(COUNTRIES)),
        tags=sorted(draw(st.sets(st.sampled_from(TAGS), max_size=3))),
        attributes=draw(st.dictionaries(st.sampled_from(ATTRIBUTES), attribute_value, max_size=3)),
        status=draw(st.sampled_from(STATUSES)),
        consent={"confirmed_at": iso(confirmed)} if confirmed else {},
        created_at=iso(draw(_TIMES)),
    )


def people(min_size: int = 0, max_size: int = 20) -> st.SearchStrategy[list[Subscriber]]:
    def number(subs: list[Subscriber]) -> list[Subscriber]:
        for i, sub in enumerate(subs):
            sub.email = f"p{i}@example.org"
        return subs
    return st.lists(subscribers(), min_size=min_size, max_size=max_size).map(number)


def _value(draw: st.DrawFn, field: str, op: str) -> Any:
    if op == "exists":
        return draw(st.sampled_from(["true", "false"]))
    if op in ("before", "after"):
        moment = draw(_TIMES)
        return draw(st.sampled_from([moment.date().isoformat(), moment.isoformat(sep=" ")]))
    pool = {"language": LANGUAGES[1:] + ["fr"], "country": COUNTRIES[1:] + ["CH"], "status": list(STATUSES),
            "tags": TAGS + ["nobody"]}.get(field, WORDS)
    if op == "in":
        return draw(st.lists(st.sampled_from(pool), max_size=3))
    return draw(st.sampled_from(pool))


@st.composite
def leaves(draw: st.DrawFn) -> dict[str, Any]:
    field = draw(st.sampled_from(["language", "country", "status", "tags", "created", "confirmed"]
                                 + [f"attributes.{a}" for a in ATTRIBUTES]))
    op = draw(st.sampled_from(operators_for(field)))
    return {"field": field, op: _value(draw, field, op)}


rules = st.recursive(
    leaves(),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda rs: {"all": rs}),
        st.lists(inner, max_size=3).map(lambda rs: {"any": rs}),
        inner.map(lambda r: {"not": r}),
    ),
    max_leaves=8,
)


def _check(people: list[Subscriber], rule: dict[str, Any]) -> None:
    """Store ``people``, then compare the SQL selection with Python's, three ways."""
    segment = Segment("random", parse_rule(rule))
    with Store(":memory:") as store:
        store.insert_many(people)
        stored = list(store.iter_all())
        assert [(s.email, s.tags, s.attributes, s.status, s.created_at, s.confirmed_at) for s in stored] == \
               [(p.email, p.tags, p.attributes, p.status, p.created_at, p.confirmed_at) for p in people]
        expected = {s.id for s in stored if segment.matches(s)}
        assert store.segment_ids(segment) == expected
        assert store.count(segment) == len(expected)
        assert [s.id for s in store.iter_segment(segment, batch=3)] == sorted(expected)
        assert all(s.status == "subscribed" for s in store.iter_segment(segment))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(subs=people(), rule=rules)
def test_sql_and_python_select_the_same_people(subs: list[Subscriber], rule: dict[str, Any]) -> None:
    _check(subs, rule)


def _person(email: str, **values: Any) -> Subscriber:
    return Subscriber(id=None, email=email, created_at="2024-05-01T12:00:00Z", **values)


# Cases SQL easily gets wrong, always tried: JSON null, a missing value under 'not', a list
# holding a number that looks like the text, the last second of a day.
_EDGE = [
    _person("a@example.org", attributes={"centre": None, "role": [42, "42"]}, language=None),
    _person("b@example.org", attributes={"centre": "Lyon", "role": 42}, language="en", tags=["leader"]),
    _person("c@example.org", consent={"confirmed_at": "2024-05-01T23:59:59Z"}, country="DE"),
    _person("d@example.org", status="unsubscribed", language="en", tags=["leader"]),
]


@settings(max_examples=200, deadline=None)
@example(subs=_EDGE, rule={"field": "attributes.centre", "exists": "true"})
@example(subs=_EDGE, rule={"field": "attributes.role", "equals": "42"})
@example(subs=_EDGE, rule={"field": "attributes.role", "contains": "42"})
@example(subs=_EDGE, rule={"field": "language", "equals": "en"})
@example(subs=_EDGE, rule={"field": "country", "in": ["DE", "AR"]})
@example(subs=_EDGE, rule={"field": "tags", "in": []})
@example(subs=_EDGE, rule={"field": "confirmed", "after": "2024-05-01"})
@example(subs=_EDGE, rule={"field": "confirmed", "before": "2024-05-02"})
@example(subs=_EDGE, rule={"field": "created", "after": "2024-05-01 11:59:59"})
@given(subs=people(min_size=5, max_size=12), rule=leaves())
def test_each_operator_alone_agrees(subs: list[Subscriber], rule: dict[str, Any]) -> None:
    """Single leaves, so every field and operator is tried often, and ``not`` of each."""
    _check(subs, rule)
    _check(subs, {"not": rule})

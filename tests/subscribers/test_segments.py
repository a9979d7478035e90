"""segments.yaml: loading, mistakes reported at file:line, and what the rules select."""
from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.core.config import load_workspace
from newsletter.core.errors import SubscriberError, ValidationFailed
from newsletter.subscribers.models import Subscriber
from newsletter.subscribers.segments import Segment, Segments, load_segments, parse_rule, read_segments
from newsletter.subscribers.store import Store

ROOT = Path(__file__).resolve().parents[2]


def _errors(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "segments.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationFailed) as info:
        read_segments(path)
    return [f"{e.line}:{e.field}: {e.message}" for e in info.value.errors]


def test_the_sample_segments_load_with_all_first(sample_ws: Path) -> None:
    segments = load_segments(load_workspace(sample_ws))
    assert segments.names[0] == "all"
    assert {"leaders", "partners", "english", "german", "spanish", "europe"} <= set(segments.names)
    assert segments.get("leaders").description.startswith("Programme leaders")


@pytest.mark.parametrize("workspace", ["examples/namc"])
def test_the_example_workspace_has_the_segments_its_editions_use(workspace: str) -> None:
    segments = read_segments(ROOT / workspace / "subscribers" / "segments.yaml")
    assert {"all", "mothers", "caregivers", "leaders", "employers"} <= set(segments.names)
    assert segments.names[0] == "all" and segments.get("all").description.startswith("Everyone on the eNews")


def test_without_a_segments_file_only_all_exists(sample_ws: Path) -> None:
    (sample_ws / "subscribers" / "segments.yaml").unlink()
    assert load_segments(load_workspace(sample_ws)).names == ["all"]


def test_unknown_fields_and_operators_are_reported_at_their_line(tmp_path: Path) -> None:
    errors = _errors(tmp_path, """\
segments:
  leaders:
    rule: {field: tag, contains: leader}
  europe:
    rule: {any: [{field: country, inside: [DE]},
                 {field: tags, before: 2024-01-01}]}
""")
    assert errors == [
        "3:segments.leaders.rule.field: unknown field 'tag'; did you mean 'tags'?",
        "5:segments.europe.rule.any[0].inside: unknown key 'inside'; "
        "expected one of: after, before, contains, equals, exists, field, in",
        "6:segments.europe.rule.any[1].before: operator 'before' does not work on field 'tags'; "
        "use one of: contains, in, exists",
    ]


def test_every_mistake_in_the_file_is_reported_at_once(tmp_path: Path) -> None:
    errors = _errors(tmp_path, """\
segments:
  all:
    rule: {field: language, equals: en}
  a:
    rule: {field: language, equals: elbisch}
  b:
    rule: {field: country}
  c:
    rule: [leaders]
  d:
    descripton: typo
    rule: {not: {field: created, after: yesterday}}
  "bad name":
    rule: {all: []}
  e:
    rule: {field: tags, contains: a, in: [b]}
  f:
    rule: {field: attributes.centre, exists: maybe}
""")
    text = "\n".join(errors)
    assert "3:segments.all.rule: 'all' is built in" in text
    assert "5:segments.a.rule.equals: expected a language code" in text
    assert "7:segments.b.rule: a rule on 'country' needs exactly one operator, got no operator" in text
    assert "9:segments.c.rule: expected a rule" in text
    assert "11:segments.d.descripton: unknown key 'descripton'; did you mean 'description'?" in text
    assert "12:segments.d.rule.not.after: expected a date like 2024-01-31" in text
    assert "13:segments.bad name: segment name 'bad name' may hold only" in text
    assert "16:segments.e.rule: a rule on 'tags' needs exactly one operator, got 2 operators" in text
    assert "18:segments.f.rule.exists:" in text
    assert len(errors) == 9


def test_errors_carry_the_file_name_and_source_line(tmp_path: Path) -> None:
    path = tmp_path / "segments.yaml"
    path.write_text("segments:\n  x:\n    rule: {field: colour, equals: red}\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as info:
        read_segments(path)
    rendered = info.value.render()
    assert rendered.startswith(f"{path}:3:12: segments.x.rule.field: unknown field 'colour'")
    assert "rule: {field: colour, equals: red}" in rendered


def test_a_yaml_syntax_error_is_a_validation_error(tmp_path: Path) -> None:
    errors = _errors(tmp_path, "segments:\n  x: {rule: [\n")
    assert len(errors) == 1 and "YAML syntax error" in errors[0]


def test_a_missing_segments_key_is_explained(tmp_path: Path) -> None:
    assert _errors(tmp_path, "leaders: {}\n") == [
        "1:: expected 'segments:' with one entry per segment, got something else"]


def _people(store: Store) -> dict[str, int]:
    people = [
        Subscriber(None, "en-leader@example.org", language="en", country="DE", tags=["leader"],
                   attributes={"centre": "Mütterzentrum Lindenhof", "rooms": ["café", "garden"]},
                   consent={"confirmed_at": "2024-03-01T10:00:00Z"}, created_at="2023-12-31T23:59:59Z"),
        Subscriber(None, "de-member@example.org", language="de", country="AT", tags=["member"],
                   attributes={"centre": "Eltern-Kind-Zentrum", "rooms": 3}, created_at="2024-01-01T00:00:00Z"),
        Subscriber(None, "nolang@example.org", created_at="2024-06-01T08:00:00Z", attributes={"centre": None}),
        Subscriber(None, "gone@example.org", language="en", tags=["leader"], status="unsubscribed",
                   created_at="2020-01-01T00:00:00Z"),
    ]
    store.insert_many(people)
    return {s.email.split("@")[0]: s.id for s in store.iter_all()}


@pytest.mark.parametrize("rule, expected", [
    ({"all": []}, {"en-leader", "de-member", "nolang"}),
    ({"any": []}, set()),
    ({"field": "tags", "contains": "leader"}, {"en-leader"}),           # never 'gone': not subscribed
    ({"field": "status", "equals": "unsubscribed"}, set()),            # whatever the rule says
    ({"not": {"field": "language", "equals": "en"}}, {"de-member", "nolang"}),  # no language counts as "not en"
    ({"field": "language", "exists": "false"}, {"nolang"}),
    ({"field": "language", "in": ["EN", "de"]}, {"en-leader", "de-member"}),   # codes normalised like imports
    ({"field": "country", "equals": "de"}, {"en-leader"}),
    ({"field": "created", "before": "2024-01-01"}, {"en-leader"}),    # before the day starts
    ({"field": "created", "after": "2023-12-31"}, {"de-member", "nolang"}),  # after the day ends
    ({"field": "created", "after": "2023-12-31 23:59:58"}, {"en-leader", "de-member", "nolang"}),
    ({"field": "confirmed", "exists": "true"}, {"en-leader"}),
    ({"field": "confirmed", "before": "2025-01-01"}, {"en-leader"}),
    ({"field": "attributes.centre", "contains": "zentrum"}, {"en-leader"}),  # case matters: not "Zentrum"
    ({"field": "attributes.centre", "equals": "Eltern-Kind-Zentrum"}, {"de-member"}),
    ({"field": "attributes.centre", "exists": "true"}, {"en-leader", "de-member"}),  # null is not a value
    ({"field": "attributes.rooms", "contains": "garden"}, {"en-leader"}),  # an item of a list
    ({"field": "attributes.rooms", "equals": "3"}, set()),              # 3 is a number, not the text "3"
    ({"all": [{"field": "language", "in": ["en", "de"]}, {"not": {"field": "tags", "contains": "leader"}}]},
     {"de-member"}),
])
def test_rules_select_only_subscribed_people(empty_store: Store, rule: dict, expected: set[str]) -> None:
    ids = _people(empty_store)
    segment = Segment("s", parse_rule(rule))
    assert empty_store.segment_ids(segment) == {ids[name] for name in expected}


def test_sql_is_parameterised(empty_store: Store) -> None:
    """A value that looks like SQL is just a value."""
    _people(empty_store)
    sneaky = "x') OR 1=1 --"
    for rule in ({"field": "language", "equals": "en"}, {"field": "tags", "contains": sneaky},
                 {"field": "attributes.centre", "contains": sneaky}):
        sql, params = parse_rule(rule).sql()
        assert sneaky not in sql
    assert empty_store.count(Segment("s", parse_rule({"field": "tags", "contains": sneaky}))) == 0


def test_unknown_segment_names_are_refused_with_a_hint(sample_store: Store) -> None:
    with pytest.raises(SubscriberError, match="unknown segment 'leader'.*did you mean 'leaders'"):
        sample_store.count("leader")


def test_segments_container() -> None:
    segments = Segments([Segment("x", parse_rule({"all": []}))])
    assert "x" in segments and "all" in segments and len(segments) == 2
    with pytest.raises(KeyError):
        segments.get("y")

"""`newsletter subscribers edit EMAIL --set K=V --unset K`: one person's fields and attributes."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest
from click.testing import Result

from newsletter.subscribers import editing
from newsletter.subscribers.models import InvalidValue, Subscriber
from newsletter.subscribers.store import Store

Cli = Callable[..., Result]


@pytest.fixture
def stray(cli: Cli, tmp_path: Path) -> str:
    """Someone imported before headers were understood: the German columns became attributes."""
    path = tmp_path / "alt.csv"
    path.write_text("email;first_name;Vorname;Land;centre\nanna@example.org;;Anna;Deutschland;Lindenhof\n",
                    encoding="utf-8")
    # 'Vorname' and 'Land' are fields now; map them to attributes to recreate the old state.
    result = cli("subscribers", "import", str(path), "--map-column", "Vorname=attributes.Vorname",
                 "--map-column", "Land=attributes.Land")
    assert result.exit_code == 0, result.output
    return "anna@example.org"


def test_stray_attributes_are_removed_and_fields_set(cli: Cli, stray: str) -> None:
    before = cli("subscribers", "show", stray).stdout
    assert "    Vorname: Anna" in before and "    Land: Deutschland" in before
    result = cli("subscribers", "edit", stray, "--set", "first_name=Anna", "--set", "Land=Deutschland",
                 "--unset", "Vorname", "--unset", "attributes.Land")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"Changed {stray}:",
        "  name: - -> Anna",
        "  first_name: - -> Anna",
        "  country: - -> DE",
        "  attributes.Land: Deutschland -> -",
        "  attributes.Vorname: Anna -> -",
    ]
    shown = cli("subscribers", "show", stray).stdout
    assert "first/last: Anna / " in shown and "country:    DE" in shown
    assert "Vorname" not in shown.split("consent:")[0] and "    centre: Lindenhof" in shown
    edits = [line for line in shown.splitlines() if "  edit: " in line]
    assert edits[-1].endswith("  edit: attributes.Land, attributes.Vorname, country, first_name, name")


def test_the_edit_is_recorded_as_an_event_with_what_each_value_was(sample_store: Store) -> None:
    sub = sample_store.add(Subscriber(None, "b@example.org", first_name="Bea", attributes={"role": "x"}))
    before, after, changed = sample_store.edit(
        "B@example.org", lambda s: editing.apply(s, [("language", "Deutsch")], ["role"]), source="test")
    assert (before.language, after.language, after.attributes) == (None, "de", {})
    assert changed == {"language": [None, "de"], "attributes.role": ["x", None]}
    event = sample_store.events(sub.stored_id)[-1]
    assert event["kind"] == "edit" and event["changes"] == changed and event["source"] == "test"
    assert sample_store.get("b@example.org").updated_at == sample_store.now()


def test_dry_run_writes_nothing(cli: Cli, stray: str) -> None:
    result = cli("subscribers", "edit", stray, "--unset", "Vorname", "--dry-run")
    assert result.exit_code == 0 and result.stdout.startswith(f"Would change {stray}:")
    assert "    Vorname: Anna" in cli("subscribers", "show", stray).stdout


def test_values_are_checked_like_an_import(cli: Cli, stray: str) -> None:
    for args, message in [
        (["--set", "language=Elbisch"], f"Error: {stray}: language: expected a language code like 'en' or 'pt-BR'"),
        (["--set", "country=Mittelerde"], f"Error: {stray}: country: expected a two-letter country code"),
        (["--set", "name==?utf-8?q?x?="], f"Error: {stray}: name: '=?utf-8?q?x?=' looks like a MIME encoded-word"),
        (["--set", "tags=ok, bad\x01tag"], f"Error: {stray}: tags: tag 'bad\\x01tag' may not hold"),
        (["--set", "score:json=[1,"], f"Error: {stray}: score:json: is not valid JSON"),
        (["--set", "status=unsubscribed"], f"Error: {stray}: status: use 'subscribers unsubscribe'"),
        (["--set", "email=new@example.org"], f"Error: {stray}: email: an address cannot be changed"),
        (["--set", "consent_ip=1.2.3.4"], f"Error: {stray}: consent_ip: the consent record"),
    ]:
        result = cli("subscribers", "edit", stray, *args)
        assert result.exit_code == 1, (args, result.output)
        assert result.stderr.startswith(message), (args, result.stderr)
    assert "language:   -" in cli("subscribers", "show", stray).stdout  # nothing was written


def test_unknown_address_and_attribute_are_clear_errors(cli: Cli, stray: str) -> None:
    nobody = cli("subscribers", "edit", "nobody@example.org", "--set", "language=de")
    assert nobody.exit_code == 1 and nobody.stderr.startswith("Error: no subscriber 'nobody@example.org' in ")
    typo = cli("subscribers", "edit", stray, "--unset", "Vornam")
    assert typo.exit_code == 1
    assert typo.stderr == (f"Error: {stray}: Vornam: no attribute or field of that name; did you mean 'Vorname'?\n")
    other = cli("subscribers", "edit", stray, "--unset", "phone")
    assert "its attributes: Land, Vorname, centre" in other.stderr


def test_usage_errors_exit_2_and_help_has_examples(cli: Cli, stray: str) -> None:
    assert cli("subscribers", "edit", stray).exit_code == 2
    bad = cli("subscribers", "edit", stray, "--set", "language")
    assert bad.exit_code == 2 and "expected NAME=VALUE, got 'language'" in bad.stderr
    shown = cli("subscribers", "edit", "--help").stdout
    assert "newsletter subscribers edit ana@example.org --set first_name=Ana --unset Vorname" in shown
    assert "--dry-run" in shown


def test_unset_empties_fields_and_a_set_name_is_kept(cli: Cli, stray: str) -> None:
    cli("subscribers", "edit", stray, "--set", "first_name=Anna", "--set", "last_name=Müller",
        "--set", "tags=leader; member", "--set", "language=de")
    shown = cli("subscribers", "show", stray).stdout
    assert "name:       Anna Müller" in shown and "tags:       leader, member" in shown
    cli("subscribers", "edit", stray, "--set", "name=Dr. Anna Müller", "--set", "first_name=Anne")
    assert "name:       Dr. Anna Müller" in cli("subscribers", "show", stray).stdout
    result = cli("subscribers", "edit", stray, "--unset", "tags", "--unset", "language")
    assert result.exit_code == 0
    shown = cli("subscribers", "show", stray).stdout
    assert "tags:       -" in shown and "language:   -" in shown
    again = cli("subscribers", "edit", stray, "--unset", "tags")
    assert again.stdout == f"{stray}: nothing changed\n"


def test_an_attribute_the_person_has_is_found_by_its_own_name() -> None:
    sub = Subscriber(1, "a@example.org", attributes={"Sprache": "Deutsch"})
    assert editing.target("Sprache", sub) == ("attr", "Sprache")
    assert editing.target("Sprache", Subscriber(2, "b@example.org")) == ("field", "language")
    assert editing.target("language", sub) == ("field", "language")
    assert editing.target("attributes.language", sub) == ("attr", "language")
    with pytest.raises(InvalidValue, match="status: use"):
        editing.target("Status", sub)
    with pytest.raises(InvalidValue, match="name_infix: it is part of the family name"):
        editing.target("Tussenvoegsel", sub)

"""Subscriber files from real organisations: column names and values in the network's languages."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Callable

import pytest
from click.testing import Result

from newsletter.subscribers import names
from newsletter.subscribers.importers import import_file
from newsletter.subscribers.importers.headers import closest, field_for
from newsletter.subscribers.models import InvalidValue, normalise_country, normalise_language
from newsletter.subscribers.store import Store

Cli = Callable[..., Result]
BOM = "\ufeff"


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_text(text, encoding=encoding, newline="")
    return path


def test_a_german_semicolon_spreadsheet_imports_names_language_and_country(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, "mitglieder.csv", BOM + "E-Mail;Vorname;Nachname;Sprache;Land\r\n"
                 "anna.mueller@example.org;Anna;Müller;Deutsch;Deutschland\r\n"
                 "jana.novak@example.org;Jana;Novák;cs;CZ\r\n"
                 "ana.lopez@example.org;Ana;López;Spanisch;Argentinien\r\n"
                 "kofi@example.org;Kofi;Mensah;Englisch;Kenia\r\n"
                 "eva@example.org;Éva;Kovács;Ungarisch;Ungarn\r\n")
    result = cli("subscribers", "import", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout == "imported 5, updated 0, unchanged 0, duplicates 0, rejected 0, suppressed 0\n"
    shown = cli("subscribers", "show", "anna.mueller@example.org").stdout
    assert "name:       Anna Müller" in shown and "first/last: Anna / Müller" in shown
    assert "language:   de" in shown and "country:    DE" in shown and "attributes: -" in shown
    expected = {"jana.novak@example.org": ("cs", "CZ"), "ana.lopez@example.org": ("es", "AR"),
                "kofi@example.org": ("en", "KE"), "eva@example.org": ("hu", "HU")}
    for email, (language, country) in expected.items():
        text = cli("subscribers", "show", email).stdout
        assert f"language:   {language}" in text and f"country:    {country}" in text, text
    assert "'Vorname' as first_name" in result.stderr and "'Land' as country" in result.stderr


# One header per language, written the way spreadsheets are: capitals, accents, spaces,
# punctuation. Each maps to: email, first_name, last_name, language, country.
HEADERS = {
    "en": "Email Address,First Name,Last Name,Language,Country",
    "de": "E-Mail-Adresse,Vorname,Nachname,Sprache,Land",
    "es": "Correo electrónico,Nombre,Apellidos,Idioma,País",
    "fr": "Courriel,Prénom,Nom,Langue,Pays",
    "it": "Indirizzo e-mail,Nome,Cognome,Lingua,Paese",
    "pt": "Endereço de e-mail,Primeiro nome,Sobrenome,Língua,País",
    "nl": "E-mailadres,Voornaam,Achternaam,Taal,Land",
}
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch", "es": "español", "fr": "français", "it": "italiano",
                  "pt": "Português", "nl": "Nederlands"}
COUNTRY_NAMES = {"en": ("Germany", "DE"), "de": ("Österreich", "AT"), "es": ("Alemania", "DE"),
                 "fr": ("Suisse", "CH"), "it": ("Germania", "DE"), "pt": ("Alemanha", "DE"),
                 "nl": ("Nederland", "NL")}


@pytest.mark.parametrize("language", sorted(HEADERS))
def test_headers_and_values_in_each_language_of_the_network(empty_store: Store, tmp_path: Path,
                                                           language: str) -> None:
    country, code = COUNTRY_NAMES[language]
    row = f"ana@example.org,Ana,Silva,{LANGUAGE_NAMES[language]},{country}"
    summary = import_file(empty_store, write(tmp_path, "list.csv", HEADERS[language] + "\n" + row + "\n"))
    assert summary.imported == 1 and summary.rejected == 0, summary.errors
    ana = empty_store.get("ana@example.org")
    assert (ana.first_name, ana.last_name, ana.name) == ("Ana", "Silva", "Ana Silva")
    assert (ana.language, ana.country, ana.attributes) == (language, code, {})


@pytest.mark.parametrize("header", [
    "E-Mail", "e-mail", "EMAIL", " E-Mail ", "E_Mail", "e.mail", "Mail", BOM + "E-Mail", "correo",
    "Correo Electronico", "courriel", "Adresse e-mail", "E-Mail Adresse", "email address",
])
def test_email_header_spellings(header: str) -> None:
    assert field_for(header) == "email"


@pytest.mark.parametrize(("header", "field"), [
    ("Vorname", "first_name"), ("VORNAME", "first_name"), ("prénom", "first_name"), ("Prenom", "first_name"),
    ("nome", "first_name"), ("voornaam", "first_name"), ("nombre", "first_name"),
    ("Nachname", "last_name"), ("apellido", "last_name"), ("nom", "last_name"), ("cognome", "last_name"),
    ("sobrenome", "last_name"), ("achternaam", "last_name"), ("Nom de famille", "last_name"),
    ("Sprache", "language"), ("idioma", "language"), ("langue", "language"), ("lingua", "language"),
    ("taal", "language"), ("Land", "country"), ("país", "country"), ("pays", "country"),
    ("paese", "country"), ("Nombre completo", "name"), ("Schlagwörter", "tags"),
])
def test_field_header_spellings(header: str, field: str) -> None:
    assert field_for(header) == field


@pytest.mark.parametrize(("value", "code"), [
    ("Deutsch", "de"), ("German", "de"), ("español", "es"), ("ESPANOL", "es"), ("Spanish", "es"),
    ("français", "fr"), ("Französisch", "fr"), ("italiano", "it"), ("Português", "pt"), ("Nederlands", "nl"),
    ("Duits", "de"), ("Brazilian Portuguese", "pt-BR"), ("čeština", "cs"), ("magyar", "hu"), ("de", "de"),
    ("pt_BR", "pt-BR"),
])
def test_language_names_become_codes(value: str, code: str) -> None:
    assert normalise_language(value) == code


@pytest.mark.parametrize(("value", "code"), [
    ("Deutschland", "DE"), ("germany", "DE"), ("Alemania", "DE"), ("Allemagne", "DE"), ("Tschechien", "CZ"),
    ("Czech Republic", "CZ"), ("Países Bajos", "NL"), ("Bosnia", "BA"), ("Turkey", "TR"), ("Türkei", "TR"),
    ("Kenia", "KE"), ("Argentina", "AR"), ("de", "DE"), ("USA", "US"),
])
def test_country_names_become_codes(value: str, code: str) -> None:
    assert normalise_country(value) == code


def test_a_name_that_means_two_languages_is_not_guessed() -> None:
    assert names.language_code("Ladino") == names.AMBIGUOUS
    with pytest.raises(InvalidValue, match="names more than one language; write its code instead"):
        normalise_language.__wrapped__("Ladino")


def test_unknown_language_and_country_names_are_row_errors_naming_the_column(empty_store: Store,
                                                                             tmp_path: Path) -> None:
    path = write(tmp_path, "mitglieder.csv", "E-Mail;Vorname;Sprache;Land\n"
                 "a@example.org;A;Deutsch;Deutschland\n"
                 "b@example.org;B;Elbisch;DE\n"
                 "c@example.org;C;de;Mittelerde\n")
    summary = import_file(empty_store, path)
    assert summary.imported == 1 and summary.rejected == 2
    first, second = (str(e) for e in summary.errors)
    assert first.startswith(f"{path}:3: Sprache (language): expected a language code like 'en' or 'pt-BR', "
                            "or a language's name like 'Deutsch', got 'Elbisch'")
    assert second.startswith(f"{path}:4: Land (country): expected a two-letter country code like 'DE'")
    assert "'Mittelerde'" in second


def test_unrecognised_columns_are_listed_with_the_closest_field_and_map_column(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, "list.csv", "E-Mail;Vornmae;Nachname;Telefon;centre\n"
                 "a@example.org;Anna;Müller;0711 123;Stuttgart\n")
    result = cli("subscribers", "import", str(path))
    assert result.exit_code == 0, result.output
    note = next(line for line in result.stderr.splitlines() if "kept as attributes" in line)
    assert note.startswith("Warning: 2 column(s) are not subscriber fields and are kept as attributes: ")
    assert "'Vornmae' (closest field: first_name, as in 'vorname')" in note and "'Telefon'" in note
    assert "--map-column 'Vornmae=first_name'" in note
    assert "'centre'" not in note  # listed under merge_attributes in newsletter.yaml: meant as attribute
    mapped = cli("subscribers", "import", str(path), "--map-column", "Vornmae=first_name")
    assert mapped.exit_code == 0 and "'Vornmae'" not in mapped.stderr
    assert "first/last: Anna / Müller" in cli("subscribers", "show", "a@example.org").stdout


def test_map_column_names_a_column_the_file_has(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, "list.csv", "E-Mail;Vornmae\na@example.org;Anna\n")
    result = cli("subscribers", "import", str(path), "--map-column", "Vorname=first_name")
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {path}:1: --map-column 'Vorname': the file has no such column; "
                             "its columns are: E-Mail, Vornmae\n")


def test_closest_field_only_when_close() -> None:
    assert closest("Telefon").field is None and closest("Vornme").field == "first_name"
    assert closest("Emial").field == "email" and closest("Sprahce").field == "language"


def test_name_beside_a_first_name_is_the_family_name(empty_store: Store, tmp_path: Path) -> None:
    import_file(empty_store, write(tmp_path, "a.csv", "E-Mail;Vorname;Name\na@example.org;Anna;Müller\n"))
    import_file(empty_store, write(tmp_path, "b.csv", "email,name\nb@example.org,Bea Berg\n"))
    a, b = empty_store.get("a@example.org"), empty_store.get("b@example.org")
    assert (a.first_name, a.last_name, a.name) == ("Anna", "Müller", "Anna Müller")
    assert (b.first_name, b.last_name, b.name) == ("", "", "Bea Berg")


def test_a_dutch_name_infix_goes_in_front_of_the_family_name(empty_store: Store, tmp_path: Path) -> None:
    path = write(tmp_path, "leden.csv", "E-mailadres;Voornaam;Tussenvoegsel;Achternaam;Taal;Land\n"
                 "anna@example.org;Anna;van der;Berg;Nederlands;Nederland\n"
                 "piet@example.org;Piet;;Jansen;nl;NL\n")
    summary = import_file(empty_store, path)
    assert summary.imported == 2 and summary.rejected == 0
    anna, piet = empty_store.get("anna@example.org"), empty_store.get("piet@example.org")
    assert (anna.first_name, anna.last_name, anna.name) == ("Anna", "van der Berg", "Anna van der Berg")
    assert (anna.language, anna.country, anna.attributes) == ("nl", "NL", {})
    assert (piet.last_name, piet.name) == ("Jansen", "Piet Jansen")


def test_two_columns_for_one_field_keep_the_exact_name_and_say_so(empty_store: Store, tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "Land,email,country\nDeutschland,a@example.org,AT\n")
    summary = import_file(empty_store, path)
    a = empty_store.get("a@example.org")
    assert a.country == "AT" and a.attributes == {"Land": "Deutschland"}
    assert any("'country' is read as country, 'Land' is kept as an attribute" in n for n in summary.notes)


def test_a_translated_mailchimp_export_is_still_mailchimp(empty_store: Store, tmp_path: Path) -> None:
    """A German Mailchimp account names its fields "E-Mail-Adresse", "Vorname", ...; the file is
    still told apart from a plain CSV, so the unsubscribed stay unsubscribed."""
    header = "E-Mail-Adresse,Vorname,Nachname,Centre,MEMBER_RATING,OPTIN_TIME,UNSUB_TIME,UNSUB_REASON,LEID,EUID\n"
    row = "a@example.org,Anna,Müller,Lindenhof,2,2024-03-01 10:00:00,2025-01-02 03:04:05,zu viele,1,ab\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("unsubscribed_members_export_1.csv", header + row)
        archive.writestr("subscribed_members_export_1.csv", header.replace(",UNSUB_TIME,UNSUB_REASON", "")
                         + "b@example.org,Bea,Berg,Mitte,3,2024-03-01 10:00:00,2,cd\n")
    path = tmp_path / "export.zip"
    path.write_bytes(buffer.getvalue())
    summary = import_file(empty_store, path)
    assert summary.imported == 2 and summary.rejected == 0, summary.errors
    a, b = empty_store.get("a@example.org"), empty_store.get("b@example.org")
    assert a.status == "unsubscribed" and a.consent["withdrawn_reason"] == "zu viele"
    assert (a.first_name, a.last_name, b.status) == ("Anna", "Müller", "subscribed")
    assert a.attributes["Centre"] == "Lindenhof" and "LEID" in a.attributes
    single = write(tmp_path, "unsubscribed_members_export_2.csv", header + row.replace("a@", "c@"))
    import_file(empty_store, single)
    assert empty_store.get("c@example.org").status == "unsubscribed"

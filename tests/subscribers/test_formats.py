"""Format detection and the details of each import format."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from newsletter.core.errors import SourceError
from newsletter.subscribers.importers import import_file
from newsletter.subscribers.store import Store

from .conftest import write_bytes


def _one(store: Store, email: str):  # type: ignore[no-untyped-def]
    found = store.get(email)
    assert found is not None, email
    return found


def test_listmonk_csv_with_json_attributes(empty_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "listmonk.csv"
    path.write_text('email,name,attributes\n'
                    'ana@example.org,Ana López,"{""city"": ""Rosario"", ""kids"": 2, ""langs"": [""es"", ""en""]}"\n'
                    'bea@example.org,Bea,\n'
                    'bad@example.org,Bad,"{not json"\n'
                    'list@example.org,List,"[1, 2]"\n', encoding="utf-8")
    summary = import_file(empty_store, path)
    assert [str(e) for e in summary.errors] == [
        f"{path}:4: attributes: is not valid JSON (Expecting property name enclosed in double quotes at character 2)",
        f"{path}:5: attributes: expected a JSON object like {{\"city\": \"Lyon\"}}, got '[1, 2]'",
    ]
    ana = _one(empty_store, "ana@example.org")
    assert ana.name == "Ana López" and ana.attributes == {"city": "Rosario", "kids": 2, "langs": ["es", "en"]}
    assert ana.consent["method"] == "importer-vouched"
    assert _one(empty_store, "bea@example.org").attributes == {}


def test_a_listmonk_export_with_status_columns(empty_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "subscribers.csv"
    path.write_text("uuid,email,name,attributes,status,created_at,updated_at\n"
                    "7a1c,ana@example.org,Ana,{},enabled,2021-05-01 10:00:00+02:00,2024-01-01 00:00:00\n"
                    "7a1d,bea@example.org,Bea,{},blocklisted,2022-01-01 00:00:00,2024-01-01 00:00:00\n"
                    "7a1e,cai@example.org,Cai,{},disabled,2022-01-01 00:00:00,2024-01-01 00:00:00\n",
                    encoding="utf-8")
    import_file(empty_store, path)
    ana = _one(empty_store, "ana@example.org")
    assert ana.status == "subscribed" and ana.created_at == "2021-05-01T08:00:00Z"
    assert _one(empty_store, "bea@example.org").status == "blocklisted"
    assert _one(empty_store, "cai@example.org").status == "unsubscribed"


def test_plain_csv_columns_aliases_and_attributes(empty_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("E-Mail;First Name;Surname;Lang;Country;Tags;Centre;Birthday:json;attributes.email\n"
                    "ana@example.org;Ana;López;ES;ar;\"leader; member\";Centro;[1990, 5];private@example.org\n",
                    encoding="utf-8")
    import_file(empty_store, path)
    ana = _one(empty_store, "ana@example.org")
    assert (ana.first_name, ana.last_name, ana.language, ana.country) == ("Ana", "López", "es", "AR")
    assert ana.tags == ["leader", "member"]
    assert ana.attributes == {"Centre": "Centro", "Birthday": [1990, 5], "email": "private@example.org"}


def test_translated_mailchimp_labels_are_understood_or_mapped(empty_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "subscribed_members_export_de.csv"
    path.write_text("E-Mail-Adresse,Vorname,Nachname,OPTIN_TIME,CC,TAGS\n"
                    "hanne@example.org,Hanne,Brückner,2023-01-01 10:00:00,DE,\"\"\"leader\"\"\"\n",
                    encoding="utf-8")
    assert import_file(empty_store, path).imported == 1
    hanne = _one(empty_store, "hanne@example.org")
    assert hanne.name == "Hanne Brückner" and hanne.tags == ["leader"] and hanne.country == "DE"
    assert hanne.consent["source"].startswith("mailchimp:")
    mapped = import_file(empty_store, path, column_map={"e-mail-adresse": "Email Address", "Vorname": "First Name",
                                                        "Nachname": "Last Name"})
    assert mapped.unchanged == 1


def test_jsonl_import(empty_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "backup.jsonl"
    path.write_text(json.dumps({"email": "ana@example.org", "tags": ["a"], "attributes": {"n": 1},
                                "consent": {"source": "form", "method": "double-opt-in", "time": "2020-01-01"}}) + "\n"
                    + "\n{broken\n" + json.dumps({"email": "b@example.org", "colour": "red"}) + "\n"
                    + json.dumps({"email": "c@example.org", "tags": "not-a-list"}) + "\n", encoding="utf-8")
    summary = import_file(empty_store, path)
    assert [str(e) for e in summary.errors] == [
        f"{path}:3: is not valid JSON (Expecting property name enclosed in double quotes at character 2)",
        f"{path}:4: colour: unknown key; expected: email, name, first_name, last_name, language, country, tags, "
        "status, attributes, consent, created_at",
        f"{path}:5: tags: expected a list of tags, got 'not-a-list'",
    ]
    ana = _one(empty_store, "ana@example.org")
    assert ana.consent == {"source": "form", "method": "double-opt-in", "time": "2020-01-01T00:00:00Z"}
    assert ana.attributes == {"n": 1}


def test_a_wrongly_encoded_row_is_refused_not_the_file(empty_store: Store, tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "excel.csv", "email,first_name\nana@example.org,Ana\n".encode()
                       + "bea@example.org,Begoña\n".encode("cp1252"))
    summary = import_file(empty_store, path)
    assert [str(e) for e in summary.errors] == [
        f"{path}:3: holds the byte 0xF1, which is not valid in the chosen encoding; save the file as UTF-8 "
        "or pass --encoding (e.g. cp1252)"]
    assert summary.imported == 1
    again = import_file(empty_store, path, encoding="cp1252")
    assert again.imported == 1 and _one(empty_store, "bea@example.org").first_name == "Begoña"


@pytest.mark.parametrize("text, message", [
    ("", "the file is empty"),
    ("\n\n", "the file is empty"),
    ("name,city\nAna,Lyon\n", "cannot tell the format: the header has name, city"),
    ("email,name,email\n", "column 'email' appears twice (columns 1 and 3)"),
    ("email,,name\n", "column 2 has no name"),
])
def test_problems_with_the_whole_file(empty_store: Store, tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SourceError, match=re.escape(message)):
        import_file(empty_store, path)


def test_an_explicit_format_must_fit(empty_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("email\nana@example.org\n", encoding="utf-8")
    with pytest.raises(SourceError, match="no 'Email Address' column"):
        import_file(empty_store, path, fmt="mailchimp")
    with pytest.raises(SourceError, match="listmonk CSV has the columns email, name, attributes; missing: name"):
        import_file(empty_store, path, fmt="listmonk")
    with pytest.raises(SourceError, match="unknown format 'xml'"):
        import_file(empty_store, path, fmt="xml")
    with pytest.raises(SourceError, match="no such file"):
        import_file(empty_store, tmp_path / "missing.csv")


def test_a_zip_that_is_not_a_mailchimp_export(empty_store: Store, tmp_path: Path) -> None:
    import zipfile
    path = tmp_path / "photos.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("photo.jpg", b"...")
    with pytest.raises(SourceError, match="holds no Mailchimp member export.*photo.jpg"):
        import_file(empty_store, path)
    with pytest.raises(SourceError, match="only Mailchimp exports come as ZIP"):
        import_file(empty_store, path, fmt="csv")


def test_rows_with_too_many_or_too_few_cells(empty_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("email,first_name,centre\nana@example.org,Ana\nbea@example.org,Bea,X,extra\n", encoding="utf-8")
    summary = import_file(empty_store, path)
    assert summary.imported == 1  # a short row: the missing cells are empty
    assert [str(e) for e in summary.errors] == [
        f"{path}:3: has 4 cells but the header names 3 columns; check for a stray delimiter or quote"]


def test_bad_values_name_their_field(empty_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "values.csv"
    path.write_text("email,language,country,status,tags,created_at,consent_time\n"
                    "a@example.org,Elbisch,,,,,\n"
                    "b@example.org,,Mittelerde,,,,\n"
                    "c@example.org,,,gone,,,\n"
                    "d@example.org,,,,\"x\x01y\",,\n"
                    "e@example.org,,,,,last year,\n"
                    "f@example.org,,,,,,soon\n", encoding="utf-8")
    reasons = [e.reason.split(":")[0] for e in import_file(empty_store, path).errors]
    assert reasons == ["language", "country", "status", "tags", "created_at", "consent.time"]

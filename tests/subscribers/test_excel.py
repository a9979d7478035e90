"""`subscribers export --excel`: a CSV that Excel opens correctly, and that imports back without loss."""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Callable

import pytest
from click.testing import Result

from newsletter.subscribers.exporters import EXPORT_FORMATS, excel_delimiter, export
from newsletter.subscribers.importers import import_file
from newsletter.subscribers.importers.plaincsv import quote_for_excel, quote_for_import, unquote_cell
from newsletter.subscribers.models import Subscriber
from newsletter.subscribers.store import Store

from .conftest import fixed_clock
from .test_roundtrip import _comparable, _rich_store

Cli = Callable[..., Result]
BOM = b"\xef\xbb\xbf"
# Cells a spreadsheet would run as formulas, and cells that look like their escaped form.
TRICKY = ["=HYPERLINK(\"https://evil.example\",\"click\")", "+49 711 123456", "-3", "@SUM(A1)", "\tindented",
          "'t Hooft", "'=already quoted", "''", "'", "=", "plain; with semicolon, and comma", "Zeile 1\r\nZeile 2"]


def _tricky_store(store: Store) -> list[Subscriber]:
    _rich_store(store)
    store.insert_many([
        Subscriber(None, "tricky@example.org", name=TRICKY[0], first_name="'t", last_name="-Minus",
                   tags=["=tag", "@home"], attributes={f"a{i}": value for i, value in enumerate(TRICKY)}
                   | {"=formula name": "x", "'quoted name": "y", "n": -1},
                   created_at="2020-02-02T02:02:02Z",
                   consent={"source": "=import", "method": "+form", "time": "2020-02-02T02:02:02Z"}),
        Subscriber(None, "=x@example.org", first_name="Equal", created_at="2020-02-02T02:02:02Z",
                   consent={"source": "form", "method": "form", "time": "2020-02-02T02:02:02Z"}),
    ])
    return list(store.iter_all())


def _reimported(tmp_path: Path, data: bytes, original: list[Subscriber], name: str = "export.csv") -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with Store(tmp_path / f"{name}.sqlite3", clock=fixed_clock) as fresh:
        summary = import_file(fresh, path, fmt="jsonl" if name.endswith(".jsonl") else "auto")
        assert summary.rejected == 0, summary.errors
        assert summary.imported == len(original)
        assert [_comparable(s) for s in fresh.iter_all()] == [_comparable(s) for s in original]


@pytest.mark.parametrize("delimiter", [";", ",", "\t"], ids=["semicolon", "comma", "tab"])
def test_the_excel_export_imports_back_without_loss(empty_store: Store, tmp_path: Path, delimiter: str) -> None:
    original = _tricky_store(empty_store)
    out = io.StringIO(newline="")
    assert export(empty_store, out, "csv", delimiter=delimiter, excel=True) == len(original)
    text = out.getvalue()
    assert "\r\n" in text and delimiter in text.splitlines()[0]
    _reimported(tmp_path, BOM + text.encode("utf-8"), original)


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_every_format_keeps_cells_that_look_like_formulas_or_quotes(empty_store: Store, tmp_path: Path,
                                                                   fmt: str) -> None:
    original = _tricky_store(empty_store)
    out = io.StringIO(newline="")
    export(empty_store, out, fmt)
    _reimported(tmp_path, out.getvalue().encode("utf-8"), original, f"export.{fmt}")


def test_excel_never_sees_a_formula(empty_store: Store) -> None:
    _tricky_store(empty_store)
    out = io.StringIO(newline="")
    export(empty_store, out, "csv", delimiter=";", excel=True)
    for row in csv.reader(io.StringIO(out.getvalue()), delimiter=";"):
        for cell in row:
            assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), cell


@pytest.mark.parametrize("cell", TRICKY + ["", "a", "'a", "''=", "'''"])
def test_quoting_is_undone_exactly(cell: str) -> None:
    assert unquote_cell(quote_for_excel(cell)) == cell
    assert unquote_cell(quote_for_import(cell)) == cell


def test_a_spreadsheets_text_apostrophe_is_taken_off(empty_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_text("E-Mail;Vorname;Telefon\na@example.org;'t Hooft;'+49 711 123\n", encoding="utf-8")
    import_file(empty_store, path)
    a = empty_store.get("a@example.org")
    assert a.first_name == "'t Hooft" and a.attributes == {"Telefon": "+49 711 123"}


@pytest.mark.parametrize(("language", "delimiter"), [
    ("de", ";"), ("fr", ";"), ("es", ";"), ("it", ";"), ("pt", ";"), ("nl", ";"), ("pt-BR", ";"),
    ("en", ","), ("cs", ","),
])
def test_the_default_delimiter_follows_the_workspace_language(language: str, delimiter: str) -> None:
    assert excel_delimiter(language) == delimiter


def _set_default_language(ws: Path, language: str) -> None:
    path = ws / "newsletter.yaml"
    text = path.read_text(encoding="utf-8")
    assert "  default: en\n" in text
    path.write_text(text.replace("  default: en\n", f"  default: {language}\n"), encoding="utf-8")


def test_export_excel_from_the_command_line(cli: Cli, sample_ws: Path, tmp_path: Path) -> None:
    assert cli("subscribers", "import", str(sample_ws / "subscribers" / "sample.csv")).exit_code == 0
    english = tmp_path / "en.csv"
    assert cli("subscribers", "export", "--excel", "-o", str(english)).exit_code == 0
    data = english.read_bytes()
    assert data.startswith(BOM + b"email,name,") and data.count(b"\r\n") == 61
    _set_default_language(sample_ws, "de")
    german = tmp_path / "de.csv"
    result = cli("subscribers", "export", "--excel", "-o", str(german))
    assert result.exit_code == 0 and result.stderr == f"Exported 60 subscriber(s) to {german}\n"
    assert german.read_bytes().startswith(BOM + b"email;name;first_name;")
    comma = cli("subscribers", "export", "--excel", "--delimiter", ",")
    assert comma.stdout_bytes.startswith(BOM + b"email,name,")
    tab = cli("subscribers", "export", "--delimiter", "tab")
    assert tab.stdout_bytes.startswith(b"email\tname\t")  # without --excel: no byte-order mark
    plain = cli("subscribers", "export")
    assert plain.stdout_bytes.startswith(b"email,name,")  # without --excel: a comma, whatever the language


def test_export_options_that_do_not_fit_are_usage_errors(cli: Cli) -> None:
    jsonl = cli("subscribers", "export", "--excel", "--format", "jsonl")
    assert jsonl.exit_code == 2 and "--excel writes the csv format, not jsonl" in jsonl.stderr
    bad = cli("subscribers", "export", "--delimiter", "x")
    assert bad.exit_code == 2 and "expected , or ; or tab or |, got 'x'" in bad.stderr
    assert "newsletter subscribers export --excel -o everyone.csv" in cli("subscribers", "export", "--help").stdout

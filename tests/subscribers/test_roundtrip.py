"""Exports are lossless: what goes out comes back in, field for field."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from newsletter.subscribers.exporters import EXPORT_FORMATS, export
from newsletter.subscribers.importers import import_file
from newsletter.subscribers.models import Subscriber
from newsletter.subscribers.store import Store

from .conftest import fixed_clock

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = [ROOT / "subscribers" / "sample.csv", ROOT / "examples" / "namc" / "subscribers" / "sample.csv"]


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("sample", SAMPLES, ids=["international", "namc"])
def test_importing_the_sample_and_exporting_gives_back_every_row(empty_store: Store, sample: Path) -> None:
    summary = import_file(empty_store, sample)
    original = _rows(sample.read_text(encoding="utf-8"))
    assert summary.imported == len(original) and summary.rejected == 0
    out = io.StringIO()
    assert export(empty_store, out, "csv") == len(original)
    exported = _rows(out.getvalue())
    assert [{k: row[k] for k in original[0]} for row in exported] == original


def test_the_samples_have_what_the_docs_promise() -> None:
    international = _rows(SAMPLES[0].read_text(encoding="utf-8"))
    assert 55 <= len(international) <= 65
    assert {r["language"] for r in international} == {"en", "de", "es"}
    assert {r["status"] for r in international} >= {"subscribed", "unsubscribed"}
    assert any(not r["first_name"].isascii() for r in international)
    assert all(r["email"].endswith(("@example.org", "@example.net", "@example.com")) for r in international)
    namc = _rows(SAMPLES[1].read_text(encoding="utf-8"))
    assert 35 <= len(namc) <= 45 and {r["language"] for r in namc} == {"en"} and all(r["state"] for r in namc)


# Everyone who came in through an import or a command has a consent record; an import gives
# one ("importer-vouched") to a row without one, so every subscriber here has one.
_VOUCHED = {"source": "import of list.csv", "method": "importer-vouched", "time": "2019-05-05T05:05:05Z"}


def _rich_store(store: Store) -> list[Subscriber]:
    people = [
        Subscriber(None, "Ana.Lopez@example.org", name="Ana María López", first_name="Ana", last_name="López",
                   language="es", country="AR", tags=["leader", "member"],
                   attributes={"centre": "Centro Rosario", "kids": 2, "langs": ["es", "en"], "vip": True,
                               "note": "line one\nline two", "spaces": "  padded  ", "empty": "", "nothing": None,
                               "email": "clash with a field", "Status": "clash, other case", "x:json": "tricky",
                               "attributes.y": "prefixed", " odd ": "spaces in the name",
                               "CENTRE": "same name but for case"},
                   status="subscribed", created_at="2021-03-04T05:06:07Z",
                   consent={"source": "signup form", "method": "double-opt-in", "time": "2021-03-04T05:06:07Z",
                            "ip": "192.0.2.1", "confirmed_at": "2021-03-04T05:10:00Z", "confirm_ip": "192.0.2.1"}),
        Subscriber(None, "gone@example.net", first_name="Gina", tags=["member"], status="unsubscribed",
                   attributes={"centre": "Centro Mendoza", "kids": "3"}, created_at="2020-01-01T00:00:00Z",
                   consent={"source": "import of old.csv", "method": "importer-vouched",
                            "time": "2020-01-01T00:00:00Z", "withdrawn_at": "2024-02-02T02:02:02Z",
                            "withdrawn_reason": "moved away"}),
        Subscriber(None, "bounce@example.com", status="cleaned", created_at="2019-05-05T05:05:05Z", consent=_VOUCHED),
        Subscriber(None, "blocked@example.com", status="blocklisted", country="DE", created_at="2019-05-05T05:05:05Z",
                   consent=_VOUCHED),
        Subscriber(None, "maybe@example.com", status="unconfirmed", language="pt-BR", created_at="2026-10-10T10:10:10Z",
                   consent={"source": "form", "method": "double-opt-in", "time": "2026-10-10T10:10:10Z"}),
    ]
    store.insert_many(people)
    return list(store.iter_all())


def _comparable(sub: Subscriber) -> tuple:
    return (sub.email, sub.name, sub.first_name, sub.last_name, sub.language, sub.country, sub.tags,
            sub.attributes, sub.status, sub.consent, sub.created_at)


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_every_export_format_imports_back_without_loss(empty_store: Store, tmp_path: Path, fmt: str) -> None:
    original = _rich_store(empty_store)
    path = tmp_path / f"export.{fmt}"
    with path.open("w", encoding="utf-8", newline="") as fh:
        assert export(empty_store, fh, fmt) == len(original)
    with Store(tmp_path / "fresh.sqlite3", clock=fixed_clock) as fresh:
        summary = import_file(fresh, path, fmt="jsonl" if fmt == "jsonl" else "auto")
        assert summary.rejected == 0, summary.errors
        assert summary.imported == len(original)
        assert [_comparable(s) for s in fresh.iter_all()] == [_comparable(s) for s in original]


def test_jsonl_has_the_promised_keys(empty_store: Store) -> None:
    _rich_store(empty_store)
    out = io.StringIO()
    export(empty_store, out, "jsonl")
    first = json.loads(out.getvalue().splitlines()[0])
    assert {"email", "name", "status", "language", "country", "tags", "attributes", "consent"} <= set(first)
    assert first["attributes"]["kids"] == 2


def test_a_segment_export_holds_only_its_subscribed_members(sample_store: Store) -> None:
    import_file(sample_store, SAMPLES[0])
    out = io.StringIO()
    count = export(sample_store, out, "csv", "leaders")
    rows = _rows(out.getvalue())
    assert count == len(rows) == sample_store.count("leaders") > 0
    assert all(r["status"] == "subscribed" and "leader" in r["tags"] for r in rows)


def test_csv_export_columns_for_awkward_attribute_names(empty_store: Store) -> None:
    _rich_store(empty_store)
    out = io.StringIO()
    export(empty_store, out, "csv")
    header = out.getvalue().splitlines()[0].split(",")
    assert ("centre" in header) != ("CENTRE" in header)  # one of them: the other is in the JSON column
    assert "kids:json" in header and "attributes.email" in header and "attributes.Status" in header
    assert "attributes. odd :json" in header and "x:json:json" in header
    assert "attributes" in header  # 'CENTRE' cannot be a column next to 'centre': they go in a JSON column

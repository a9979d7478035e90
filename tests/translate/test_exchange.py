"""Export -> translate -> import -> check -> build, through the real CLI, on a copy of the sample
workspace: XLIFF and PO, stale translations, errors that point into the translator's file."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from lxml import etree
from translate.storage import po

from newsletter.cli import main
from newsletter.core.config import load_workspace
from newsletter.content.loader import load_edition
from newsletter.render import render_variant

EDITION = "2026-11"
XLF = "{urn:oasis:names:tc:xliff:document:1.1}"


def run(ws: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["-C", str(ws), *args], catch_exceptions=False)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def export(ws: Path, out: Path, *args: str) -> None:
    result = run(ws, "translate", "export", EDITION, "-o", str(out), *args)
    assert result.exit_code == 0, result.output


def set_xliff_target(path: Path, unit_id: str, text: str, state: str = "translated") -> None:
    tree = etree.parse(str(path))
    unit = tree.find(f".//{XLF}trans-unit[@id='{unit_id}']")
    target = unit.find(f"{XLF}target")
    target.text = text
    target.set("state", state)
    tree.write(str(path), xml_declaration=True, encoding="UTF-8")


def german_html(ws: Path) -> str:
    workspace = load_workspace(ws)
    return render_variant(workspace, load_edition(workspace, EDITION), "de").html


def test_xliff_round_trip_carries_new_texts_into_the_german_variant(sample_ws: Path, tmp_path: Path) -> None:
    export(sample_ws, tmp_path)
    xlf = tmp_path / f"{EDITION}.de.xlf"
    set_xliff_target(xlf, "blocks[0].title", "Von einander lernen – neu übersetzt")
    result = run(sample_ws, "translate", "import", str(xlf))
    assert result.exit_code == 0, result.output
    assert "translation(s) written to issues/2026-11/translations/de.yaml" in result.output
    assert run(sample_ws, "check", EDITION).exit_code == 0
    assert "Von einander lernen – neu übersetzt" in german_html(sample_ws)
    assert run(sample_ws, "build", EDITION).exit_code == 0


def test_an_unchanged_round_trip_changes_no_byte(sample_ws: Path, tmp_path: Path) -> None:
    export(sample_ws, tmp_path / "first")
    assert run(sample_ws, "translate", "import", str(tmp_path / "first" / f"{EDITION}.de.xlf")).exit_code == 0
    before = snapshot(sample_ws / "issues" / EDITION)
    export(sample_ws, tmp_path / "second")
    result = run(sample_ws, "translate", "import", str(tmp_path / "second" / f"{EDITION}.de.xlf"))
    assert result.exit_code == 0 and "nothing changed" in result.output
    assert snapshot(sample_ws / "issues" / EDITION) == before


def test_po_round_trip_with_an_untranslated_text(sample_ws: Path, tmp_path: Path) -> None:
    export(sample_ws, tmp_path, "--format", "po", "--lang", "es")
    path = tmp_path / f"{EDITION}.es.po"
    store = po.pofile(path.read_bytes())
    unit = next(u for u in store.units if u.getcontext() == "blocks[6].items[0].description")
    assert unit.target == ""  # the Spanish text is missing today
    unit.target = "Una guía de 20 páginas para abrir un centro."
    path.write_bytes(bytes(store))
    result = run(sample_ws, "translate", "import", str(path))
    assert result.exit_code == 0, result.output
    workspace = load_workspace(sample_ws)
    html = render_variant(workspace, load_edition(workspace, EDITION), "es").html
    assert "Una guía de 20 páginas para abrir un centro." in html


def test_a_broken_xliff_file_names_its_line_and_changes_nothing(sample_ws: Path, tmp_path: Path) -> None:
    export(sample_ws, tmp_path)
    xlf = tmp_path / f"{EDITION}.de.xlf"
    lines = xlf.read_text(encoding="utf-8").splitlines()
    broken = next(i for i, line in enumerate(lines) if "</target>" in line)
    lines[broken] = lines[broken].replace("</target>", "</targt>")
    xlf.write_text("\n".join(lines), encoding="utf-8")
    before = snapshot(sample_ws / "issues")
    result = run(sample_ws, "translate", "import", str(xlf))
    assert result.exit_code == 1
    assert re.search(rf"{re.escape(xlf.name)}:{broken + 1}:\d+: not a valid XLIFF file", result.output), result.output
    assert "Traceback" not in result.output
    assert snapshot(sample_ws / "issues") == before


def test_a_translation_that_breaks_the_edition_is_refused_at_its_xliff_line(sample_ws: Path, tmp_path: Path) -> None:
    export(sample_ws, tmp_path)
    xlf = tmp_path / f"{EDITION}.de.xlf"
    set_xliff_target(xlf, "blocks[0].intro", "Liebe {{ frist_name }}, willkommen.")
    line = next(n for n, text in enumerate(xlf.read_text(encoding="utf-8").splitlines(), 1)
                if "frist_name" in text)
    before = snapshot(sample_ws / "issues")
    result = run(sample_ws, "translate", "import", str(xlf))
    assert result.exit_code == 1
    assert f"{xlf.name}:{line}" in result.output and "frist_name" in result.output, result.output
    assert snapshot(sample_ws / "issues") == before


def test_an_unknown_unit_and_a_wrong_language_are_refused(sample_ws: Path, tmp_path: Path) -> None:
    export(sample_ws, tmp_path, "--lang", "de")
    xlf = tmp_path / f"{EDITION}.de.xlf"
    text = xlf.read_text(encoding="utf-8").replace('id="blocks[0].title"', 'id="blocks[42].title"')
    xlf.write_text(text, encoding="utf-8")
    result = run(sample_ws, "translate", "import", str(xlf))
    assert result.exit_code == 1 and "has no text 'blocks[42].title'" in result.output
    fr = tmp_path / "fr.xlf"
    fr.write_text(text.replace('target-language="de"', 'target-language="fr"'), encoding="utf-8")
    result = run(sample_ws, "translate", "import", str(fr))
    assert result.exit_code == 1 and "translation into 'fr'" in result.output


def test_changing_an_english_paragraph_makes_exactly_its_translations_stale(sample_ws: Path, tmp_path: Path) -> None:
    for lang in ("de", "es"):
        export(sample_ws, tmp_path, "--lang", lang)
        assert run(sample_ws, "translate", "import", str(tmp_path / f"{EDITION}.{lang}.xlf")).exit_code == 0
    assert "stale" not in run(sample_ws, "check", EDITION).output
    edition = sample_ws / "issues" / EDITION / "edition.yaml"
    text = edition.read_text(encoding="utf-8")
    edition.write_text(text.replace("Three dates for your calendar", "Three dates for your diary"), encoding="utf-8")

    result = run(sample_ws, "check", EDITION)
    stale = [line for line in result.output.splitlines() if "[stale-translation]" in line]
    assert len(stale) == 2 and all("preheader is stale" in line for line in stale)
    assert {line.split(":")[0] for line in stale} == {"issues/2026-11/translations/de.yaml",
                                                      "issues/2026-11/translations/es.yaml"}
    assert run(sample_ws, "check", "--strict", EDITION).exit_code == 1

    export(sample_ws, tmp_path / "again", "--lang", "de")
    tree = etree.parse(str(tmp_path / "again" / f"{EDITION}.de.xlf"))
    states = {u.get("id"): u.find(f"{XLF}target").get("state") for u in tree.iter(f"{XLF}trans-unit")}
    assert [k for k, v in states.items() if v == "needs-review-translation"] == ["preheader"]

    # Confirming the translation in the tool (state "translated") makes it current again.
    set_xliff_target(tmp_path / "again" / f"{EDITION}.de.xlf", "preheader", "Drei Termine für Ihren Kalender.")
    assert run(sample_ws, "translate", "import", str(tmp_path / "again" / f"{EDITION}.de.xlf")).exit_code == 0
    stale = [line for line in run(sample_ws, "check", EDITION).output.splitlines() if "stale" in line]
    assert len(stale) == 1 and "translations/es.yaml" in stale[0]


def test_translations_in_the_edition_itself_are_unknown_never_stale(sample_ws: Path) -> None:
    edition = sample_ws / "issues" / EDITION / "edition.yaml"
    text = edition.read_text(encoding="utf-8")
    edition.write_text(text.replace("Three dates for your calendar", "Three dates for your diary"), encoding="utf-8")
    result = run(sample_ws, "translate", "status", EDITION)
    assert result.exit_code == 0
    assert "0 stale" in result.output and "translated before fingerprints (state unknown)" in result.output
    assert "stale" not in run(sample_ws, "check", EDITION).output.replace("0 stale", "")


@pytest.mark.parametrize("bad", ["blocks[x].title", "[0]", "blocks..title"])
def test_a_translation_file_with_a_malformed_field_name_is_an_error_at_its_line(sample_ws: Path, bad: str) -> None:
    folder = sample_ws / "issues" / EDITION / "translations"
    folder.mkdir()
    (folder / "de.yaml").write_text(f"subject:\n  text: Hallo\n  source: abc\n{bad}:\n  text: x\n", encoding="utf-8")
    result = run(sample_ws, "check", EDITION)
    assert result.exit_code == 1
    assert f"issues/{EDITION}/translations/de.yaml:4:1" in result.output, result.output

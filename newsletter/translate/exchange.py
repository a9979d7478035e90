"""XLIFF 1.2 and PO files for translators (translate-toolkit reads and writes both).

Every unit is one text of the edition: its id (XLIFF) or context (PO) is the field as
``newsletter check`` names it (``blocks[2].title``), the source is the text in the edition's
source language, the target the translation if there is one, and a note says where the text
appears. A stale translation (its source changed since) is marked for review
(``needs-review-translation`` in XLIFF, ``fuzzy`` in PO); Markdown stays Markdown.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Literal

from newsletter.check.checker import run_check
from newsletter.content import translations
from newsletter.content.completeness import block_label
from newsletter.content.loader import LoadedEdition, load_edition, walk
from newsletter.content.model import ANY_LANG, text_marker
from newsletter.core.config import Workspace
from newsletter.core.errors import SourceError, ValidationFailed
from newsletter.core.files import atomic_write
from newsletter.core.yamlsrc import Loc, format_loc
from newsletter.subscribers.segments import segment_names

log = logging.getLogger(__name__)
Format = Literal["xliff", "po"]
SUFFIX = {"xliff": ".xlf", "po": ".po"}
EDITION_HEADER = "X-Newsletter-Edition"


def write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as fh:
        fh.write(data)


@dataclass(frozen=True)
class Unit:
    """One translatable text of an edition, in the edition's order."""

    field: str
    loc: Loc
    source: str
    target: str
    state: str          # "missing", "current", "stale", "unknown"
    note: str
    markdown: bool


def units(loaded: LoadedEdition, language: str) -> list[Unit]:
    default = loaded.default_language
    out = []
    for loc, _name, info, value in walk(loaded.edition):
        marker = text_marker(info)
        if marker is None or not value:
            continue
        source = value.get(default, value.get(ANY_LANG, ""))
        if not source.strip():
            continue
        state = loaded.translation_states.get((loc, language))
        target = value.get(language, "") if language in value else ""
        out.append(Unit(format_loc(loc), loc, source, target,
                        state.state if state and target else "missing",
                        _note(loaded, loc, marker.markdown), marker.markdown))
    return out


def _note(loaded: LoadedEdition, loc: Loc, markdown: bool) -> str:
    where = block_label(loaded, loc[1]) if loc[0] == "blocks" and len(loc) > 1 else "edition"
    note = f"Where: {where}, field {format_loc(loc)}."
    if markdown:
        note += (" Markdown: keep **bold**, *italic*, [link text](address) and merge fields such as"
                 " {{ first_name or \"friends\" }} as they are; translate only the words.")
    return note


# -- export -----------------------------------------------------------------------------------

def export(ws: Workspace, edition: str, languages: list[str] | None, fmt: Format, out_dir: Path) -> list[Path]:
    """One file per language (every language of the edition but the source one, unless
    ``languages`` names some). Returns the files written."""
    loaded = load_edition(ws, edition, segment_names(ws))
    wanted = languages or [lang for lang in loaded.edition.languages if lang != loaded.default_language]
    _check_languages(loaded, wanted)
    written = []
    for lang in wanted:
        data = (_xliff if fmt == "xliff" else _po)(loaded, lang, units(loaded, lang))
        path = out_dir / f"{loaded.name}.{lang}{SUFFIX[fmt]}"
        write_file(path, data)
        written.append(path)
    return written


def _check_languages(loaded: LoadedEdition, wanted: list[str]) -> None:
    bad = [lang for lang in wanted if lang not in loaded.edition.languages or lang == loaded.default_language]
    if bad:
        others = [lang for lang in loaded.edition.languages if lang != loaded.default_language]
        raise ValidationFailed([loaded.smap.error(("languages",), (
            f"cannot export {bad[0]!r}: the edition's languages to translate into are "
            f"{', '.join(others) or 'none'} (the source language is {loaded.default_language})"), "languages")])


def _xliff(loaded: LoadedEdition, lang: str, found: list[Unit]) -> bytes:
    from translate.storage import xliff

    store = xliff.xlifffile(sourcelanguage=loaded.default_language)
    store.settargetlanguage(lang)
    store.setfilename(store.getfilenode("NoName"), loaded.name)
    for unit in found:
        tu = store.UnitClass(unit.source)
        tu.setid(unit.field)
        store.addunit(tu)
        if unit.target:
            tu.target = unit.target
        tu.addnote(unit.note, origin="developer")
        if unit.state == "stale":
            tu.addnote(f"The {loaded.default_language} text changed after this was translated: "
                       "please check the translation.", origin="developer")
        _set_state(tu, {"missing": "new", "stale": "needs-review-translation"}.get(unit.state, "translated"))
    return bytes(store)


def _set_state(tu: Any, state: str) -> None:
    target = tu.xmlelement.find("{*}target")
    if target is None:
        tu.target = ""
        target = tu.xmlelement.find("{*}target")
    target.set("state", state)
    tu.xmlelement.set("approved", "yes" if state == "translated" else "no")


def _po(loaded: LoadedEdition, lang: str, found: list[Unit]) -> bytes:
    from translate.storage import po

    store = po.pofile()
    store.updateheader(add=True, Language=lang, **{EDITION_HEADER: loaded.name,
                                                  "X-Source-Language": loaded.default_language})
    for unit in found:
        entry = store.UnitClass(unit.source)
        entry.setcontext(unit.field)
        store.addunit(entry)
        entry.target = unit.target
        entry.addnote(unit.note, origin="developer")
        if unit.state == "stale":
            entry.addnote(f"The {loaded.default_language} text changed after this was translated.",
                          origin="translator")
            entry.markfuzzy(True)
    return bytes(store)


# -- import -----------------------------------------------------------------------------------

@dataclass
class ImportReport:
    edition: str
    language: str
    file: Path
    imported: int = 0
    skipped_fuzzy: int = 0
    empty: int = 0
    changed: bool = False
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Read:
    field: str
    source: str
    target: str
    fuzzy: bool
    line: int


def import_file(ws: Workspace, path: Path) -> ImportReport:
    """Write the translations in ``path`` (XLIFF or PO) into the edition's translation file for
    that language, then check the edition as `newsletter check` does; if anything is wrong,
    nothing changes and every error names the line in ``path``."""
    edition, lang, read = _read(path)
    loaded = load_edition(ws, edition, segment_names(ws))
    report = ImportReport(loaded.name, lang, translations.translation_file(loaded.folder, lang))
    _check_languages_in(path, loaded, lang)
    known = {u.field: u for u in units(loaded, lang)}
    errors = [SourceError(path, r.line, None, f"the edition {loaded.name} has no text {r.field!r}",
                          field=r.field) for r in read if r.field not in known]
    if errors:
        raise ValidationFailed(errors)
    chosen: dict[str, tuple[str, str]] = {}
    lines: dict[str, int] = {}
    for r in read:
        if not r.target.strip():
            report.empty += 1
        elif r.fuzzy:
            report.skipped_fuzzy += 1
        else:
            chosen[r.field] = (r.target, translations.fingerprint(r.source))
            lines[r.field] = r.line
    report.imported = len(chosen)
    report.changed = _write_checked(ws, loaded, lang, chosen, path, lines)
    return report


def _check_languages_in(path: Path, loaded: LoadedEdition, lang: str) -> None:
    if lang not in loaded.edition.languages or lang == loaded.default_language:
        raise ValidationFailed([SourceError(path, 1, None, (
            f"the file is a translation into {lang!r}, which is not one of the languages edition "
            f"{loaded.name} is translated into ({', '.join(l for l in loaded.edition.languages if l != loaded.default_language) or 'none'})"))])


def _write_checked(ws: Workspace, loaded: LoadedEdition, lang: str, chosen: dict[str, tuple[str, str]],
                   source: Path, lines: dict[str, int]) -> bool:
    target = translations.translation_file(loaded.folder, lang)
    before = target.read_bytes() if target.is_file() else None
    entries = _kept_entries(loaded, lang, chosen)
    header = (f"{lang} translations of edition {loaded.name}, written by `newsletter translate import`.\n"
              f"'source' is the fingerprint of the {loaded.default_language} text each one was made from;\n"
              "`newsletter check` warns when that text has changed since. See docs/translation.md.")
    text = translations.dump(entries, header).encode("utf-8")
    if text == before:
        return False
    write_file(target, text)
    try:
        reports = run_check(ws, [loaded.name])
    except ValidationFailed as exc:
        _restore(target, before)
        raise ValidationFailed([_pointed(err, target, source, entries, lines) for err in exc.errors]) from None
    problems = [f for r in reports for f in r.findings if f.level == "error"]
    if problems:
        _restore(target, before)
        raise ValidationFailed([SourceError(source, None, None, f"after import: {f}") for f in problems])
    return True


def _kept_entries(loaded: LoadedEdition, lang: str, chosen: dict[str, tuple[str, str]]) -> list[tuple[str, str, str]]:
    """The entries of the new file, in the edition's order: what was imported, and what the
    file already held for texts the import does not mention."""
    old = {e.field: (e.text, e.source or "") for e in _current_entries(loaded, lang)}
    out = []
    for unit in units(loaded, lang):
        if unit.field in chosen:
            out.append((unit.field, *chosen[unit.field]))
        elif unit.field in old:
            out.append((unit.field, *old[unit.field]))
    return out


def _current_entries(loaded: LoadedEdition, lang: str) -> list[translations.Entry]:
    entries, _errors = translations.read_entries(loaded.folder, [lang], loaded.smap)
    return entries


def _restore(target: Path, before: bytes | None) -> None:
    if before is None:
        target.unlink(missing_ok=True)
        if target.parent.is_dir() and not any(target.parent.iterdir()):
            target.parent.rmdir()  # the folder was made for this file
    else:
        write_file(target, before)


def _pointed(err: SourceError, written: Path, source: Path, entries: list[tuple[str, str, str]],
             lines: dict[str, int]) -> SourceError:
    """An error found in the translation file we wrote, moved to the unit of the XLIFF/PO file."""
    if Path(err.path).resolve() != written.resolve() or err.line is None:
        return err
    field_at = _field_at_line(entries, err.line)
    return SourceError(source, lines.get(field_at), None, err.message, field=field_at or err.field)


def _field_at_line(entries: list[tuple[str, str, str]], line: int) -> str | None:
    """Which entry of a dumped translation file holds ``line`` (the header is 3 lines)."""
    current, number = None, 3
    for field_name, text, _src in entries:
        number += 1
        if number > line:
            break
        current = field_name
        number += 1 + (text.count("\n") if "\n" in text.rstrip("\n") else 0) + 1
    return current


def _read(path: Path) -> tuple[str, str, list[_Read]]:
    """(edition, language, units) of an XLIFF or PO file; a broken file is a SourceError."""
    if not path.is_file():
        raise ValidationFailed([SourceError(path, None, None, "no such file")])
    data = path.read_bytes()
    suffix = path.suffix.lower()
    if suffix in (".po", ".pot"):
        return _read_po(path, data)
    if suffix in (".xlf", ".xliff", ".xml"):
        return _read_xliff(path, data)
    raise ValidationFailed([SourceError(path, None, None, "expected an XLIFF (.xlf, .xliff) or PO (.po) file")])


def _read_xliff(path: Path, data: bytes) -> tuple[str, str, list[_Read]]:
    from lxml import etree
    from translate.storage import xliff

    # translate-toolkit's parser repairs broken XML silently; a strict parse first (no entities,
    # no network: the file comes from outside) so that a damaged file is refused at its line.
    strict = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        etree.fromstring(data, parser=strict)
        store = xliff.xlifffile(data)
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (None, None)
        raise ValidationFailed([SourceError(path, line, column, f"not a valid XLIFF file: {exc.msg}")]) from None
    except Exception as exc:  # translate-toolkit raises assorted errors for wrong XML shapes
        raise ValidationFailed([SourceError(path, 1, None, f"not a valid XLIFF file: {exc}")]) from None
    names = [n for n in store.getfilenames() if n]
    lang = store.gettargetlanguage()
    if not names or not lang:
        raise ValidationFailed([SourceError(path, 1, None, "the XLIFF file must name its edition "
                                            "(<file original=...>) and target-language")])
    found = []
    for unit in store.units:
        if unit.isheader():
            continue
        target = unit.xmlelement.find("{*}target")
        state = target.get("state", "") if target is not None else ""
        line = (target if target is not None else unit.xmlelement).sourceline
        found.append(_Read(unit.getid().split("\x04")[-1], unit.source or "", unit.target or "",
                           state.startswith("needs-review") or state == "needs-translation", line))
    return names[0], lang, found


def _read_po(path: Path, data: bytes) -> tuple[str, str, list[_Read]]:
    from translate.storage import po

    try:
        store = po.pofile(data)
    except Exception as exc:
        raise ValidationFailed([SourceError(path, _po_error_line(str(exc)), None, f"not a valid PO file: {exc}")]) from None
    header = store.parseheader()
    edition, lang = header.get(EDITION_HEADER), header.get("Language")
    if not edition or not lang:
        raise ValidationFailed([SourceError(path, 1, None, f"the PO file must have the headers "
                                            f"'Language' and '{EDITION_HEADER}'")])
    text = data.decode("utf-8", errors="replace")
    found = []
    for unit in store.units:
        if unit.isheader() or unit.isobsolete():
            continue
        context = unit.getcontext()
        found.append(_Read(context, unit.source or "", unit.target or "", unit.isfuzzy(),
                           _po_line(text, context)))
    return edition, lang, found


def _po_line(text: str, context: str) -> int | None:
    """The line of the msgstr of the unit with this msgctxt."""
    escaped = context.replace("\\", "\\\\").replace('"', '\\"')
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        if line.strip() == f'msgctxt "{escaped}"':
            for offset, later in enumerate(lines[number:], start=number + 1):
                if later.startswith("msgstr"):
                    return offset
            return number
    return None


def _po_error_line(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None


def all_units(loaded: LoadedEdition) -> Iterator[tuple[str, list[Unit]]]:
    for lang in loaded.edition.languages:
        if lang != loaded.default_language:
            yield lang, units(loaded, lang)

"""`newsletter check`: validate editions, then run the lints over them.

Validation errors (schema, files, links, merge fields) stop everything and are all shown
together. Lints produce findings, errors or warnings; ``--strict`` treats warnings as errors.
"""
from __future__ import annotations


from newsletter.core.files import display_path
from newsletter.core.config import Workspace
from newsletter.core.errors import SourceError
from newsletter.content.completeness import fallbacks, stale
from newsletter.check.findings import EditionReport, Finding, Linter
from newsletter.check.images import image_findings
from newsletter.check.lints import lint_edition
from newsletter.content.loader import LoadedEdition, edition_names, load_editions
from newsletter.subscribers.segments import segment_names


def source_findings(ws: Workspace, loaded: LoadedEdition) -> list[Finding]:
    """Warnings found while reading (raw HTML in Markdown, content.editorial's notes) and the
    completeness report, each at the line it is about."""
    out = [_finding(ws, "raw-html", e, with_field=False) for e in loaded.warnings]
    out += [_finding(ws, code, e) for code, e in loaded.notes]
    for lang, blocks in fallbacks(loaded).items():
        for label, fields in blocks.items():
            short = ", ".join(f.rsplit(".", 1)[-1] if f.startswith("blocks") else f for f in fields)
            first = fields[0]
            loc = ("blocks", int(first.split("[", 1)[1].split("]", 1)[0])) if first.startswith("blocks[") else (first,)
            out.append(Finding("warning", "fallback",
                               f"{lang}: {label} falls back to {loaded.default_language} ({short})",
                               source_place(ws, loaded, loc)))
    return out + translation_findings(ws, loaded)


def _finding(ws: Workspace, code: str, e: SourceError, with_field: bool = True) -> Finding:
    where = display_path(e.path, ws.root) + (f":{e.line}" if e.line else "") + (f":{e.column}" if e.line and e.column else "")
    return Finding("warning", code, f"{e.field}: {e.message}" if e.field and with_field else e.message, where)


def source_place(ws: Workspace, loaded: LoadedEdition, loc: tuple) -> str:
    """'issues/2026-11/edition.yaml:12:5': where the value at ``loc`` was written."""
    pos = loaded.smap.lookup(loc)
    return f"{display_path(pos.path, ws.root)}:{pos.line}:{pos.column}"


def translation_findings(ws: Workspace, loaded: LoadedEdition) -> list[Finding]:
    """Stale translations (their source text changed since) and translation entries for
    fields the edition no longer has, each at its line in the translation file."""
    out = [Finding("warning", "translation", e.message, e.location()) for e in loaded.translation_warnings]
    for lang, states in stale(loaded).items():
        for state in states:
            where = (f"{display_path(state.pos.path, ws.root)}:{state.pos.line}:{state.pos.column}"
                     if state.pos else "")
            out.append(Finding("warning", "stale-translation",
                               f"{lang}: {state.field} is stale: the {loaded.default_language} text changed "
                               "after it was translated", where))
    return out


def linters() -> list[Linter]:
    """Every lint run by `check`, in order."""
    return [source_findings, image_findings, lint_edition]


def run_check(ws: Workspace, names: list[str] | None = None) -> list[EditionReport]:
    names = names or edition_names(ws)
    loaded_all = load_editions(ws, names, segment_names(ws))
    reports = []
    for loaded in loaded_all:
        report = EditionReport(loaded)
        for lint in linters():
            report.findings += lint(ws, loaded)
        reports.append(report)
    return reports

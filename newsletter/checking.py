"""`newsletter check`: validate editions, then run the lints over them.

Validation errors (schema, files, links, merge fields) stop everything and are all shown
together. Lints produce findings, errors or warnings; ``--strict`` treats warnings as errors.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Literal

from .config import Workspace
from .content.completeness import fallbacks
from .content.loader import LoadedEdition, edition_names, load_editions

Level = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    level: Level
    code: str
    message: str
    where: str = ""

    def __str__(self) -> str:
        where = f"{self.where}: " if self.where else ""
        return f"{where}{self.level}: {self.message} [{self.code}]"


@dataclass
class EditionReport:
    loaded: LoadedEdition
    findings: list[Finding] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.loaded.name

    def count(self, level: Level) -> int:
        return sum(1 for f in self.findings if f.level == level)


Linter = Callable[[Workspace, LoadedEdition], list[Finding]]


def source_findings(ws: Workspace, loaded: LoadedEdition) -> list[Finding]:
    """Warnings found while reading (raw HTML in Markdown) and the completeness report."""
    out = [Finding("warning", "raw-html", e.message, e.location()) for e in loaded.warnings]
    for lang, blocks in fallbacks(loaded).items():
        for label, fields in blocks.items():
            short = ", ".join(f.rsplit(".", 1)[-1] if f.startswith("blocks") else f for f in fields)
            out.append(Finding("warning", "fallback",
                               f"{lang}: {label} falls back to {loaded.default_language} ({short})",
                               str(loaded.file.relative_to(ws.root))))
    return out


def linters() -> list[Linter]:
    """Every lint run by `check`, in order. Rendering lints join when rendering exists."""
    found: list[Linter] = [source_findings]
    try:
        from .render.lint import lint_edition
    except ImportError:  # rendering not installed in this build
        return found
    return found + [lint_edition]


def run_check(ws: Workspace, names: list[str] | None = None) -> list[EditionReport]:
    names = names or edition_names(ws)
    loaded_all = load_editions(ws, names)
    reports = []
    for loaded in loaded_all:
        report = EditionReport(loaded)
        for lint in linters():
            report.findings += lint(ws, loaded)
        reports.append(report)
    return reports

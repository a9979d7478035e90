"""What a check reports: findings (error or warning, code, message, where) per edition."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Literal

from newsletter.core.config import Workspace
from newsletter.content.loader import LoadedEdition

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

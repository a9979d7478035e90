"""The error hierarchy. Lower-level exceptions (yaml, pydantic, smtplib, mrml, sqlite)
are translated into these types at the boundary, so the CLI has one thing to print."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path


class NewsletterError(Exception):
    """Base class for every error that is reported to a person, not a programmer."""


class WorkspaceNotFound(NewsletterError):
    """No newsletter.yaml in the current folder or any folder above it."""


class ConfigError(NewsletterError):
    """Settings are missing or invalid."""


@dataclass
class SourceError(NewsletterError):
    """One mistake at a precise place in an editor's file: file:line:column: field: message."""

    path: Path | str
    line: int | None
    column: int | None
    message: str
    field: str = ""
    source_line: str | None = dataclasses.field(default=None, compare=False)

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def location(self) -> str:
        where = str(self.path)
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return where

    def __str__(self) -> str:
        prefix = f"{self.field}: " if self.field else ""
        return f"{self.location()}: {prefix}{self.message}"

    def __hash__(self) -> int:
        return hash((str(self.path), self.line, self.column, self.message, self.field))

    def render(self) -> str:
        """The one-line message plus the offending source line with a caret, like a compiler."""
        text = str(self)
        if self.source_line is not None and self.line is not None:
            src = self.source_line.rstrip("\n")
            caret_at = max((self.column or 1) - 1, 0)
            text += f"\n    {src}\n    {' ' * caret_at}^"
        return text


class ValidationFailed(NewsletterError):
    """One or more SourceErrors, all reported together."""

    def __init__(self, errors: list[SourceError]):
        self.errors = sorted(set(errors), key=_error_order)
        noun = "error" if len(self.errors) == 1 else "errors"
        super().__init__(f"{len(self.errors)} {noun}")

    def render(self) -> str:
        return "\n".join(e.render() for e in self.errors)


def _error_order(e: SourceError) -> tuple:
    return (str(e.path), e.line or 0, e.column or 0, e.field, e.message)


class RenderError(NewsletterError):
    """Rendering a template or the MJML failed."""


class SubscriberError(NewsletterError):
    """A subscriber operation could not be done (unknown address, bad state change)."""


class DeliveryError(NewsletterError):
    """A campaign could not be sent, or not completely."""


class DatabaseError(NewsletterError):
    """The SQLite database could not be read or written (see core.db.translate)."""


class DatabaseLocked(DatabaseError):
    """Another process held the database for longer than the busy timeout."""

    exit_code = 3


class DiskFull(DatabaseError):
    """The disk holding the database is full; nothing recorded is lost."""


class DatabaseCorrupt(DatabaseError):
    """The database file is damaged."""

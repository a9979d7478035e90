"""The domain errors, one flat hierarchy in the httpx manner. Lower-level exceptions (yaml,
pydantic, smtplib, mrml, sqlite) are translated into these types at the boundary, so the CLI
has one thing to print. Each class says its exit code (``exit_code``); the CLI reads it.

    NewsletterError
      WorkspaceNotFound, ConfigError, SourceError, ValidationFailed, ChecksFailed, LintErrors
      RenderError -> TemplateError
      SubscriberError -> DatabaseBusy, RowsRejected
      DeliveryError -> AdapterError, ConnectionLost, ComposeError
      PreviewError, ScreenshotError

Errors raised and caught inside one stage (a YAML node refused, a merge tag's syntax) stay
private to that stage; campaign/ keeps its own (NotReady, CampaignLocked).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

EXIT_PROBLEMS = 1  # the work found problems (invalid edition, failed deliveries, ...)
EXIT_USAGE = 2     # the command line itself was wrong (click's usage errors)
EXIT_LOCKED = 3    # another process holds a lock (a send, the subscriber database)


class NewsletterError(Exception):
    """Base class for every error that is reported to a person, not a programmer."""

    exit_code: ClassVar[int] = EXIT_PROBLEMS


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


class ChecksFailed(NewsletterError):
    """Lints found errors (or warnings, with --strict)."""


class LintErrors(NewsletterError):
    """The build was written, but its lints found errors."""


class RenderError(NewsletterError):
    """Rendering a template or the MJML failed."""


class TemplateError(RenderError):
    """A template failed, or wrote MJML that MRML refuses; names the template file and line."""

    def __init__(self, template: str, line: int | None, message: str):
        self.template, self.line, self.message = template, line, message
        where = f"{template}:{line}" if line else template
        super().__init__(f"{where}: {message}")


class SubscriberError(NewsletterError):
    """A subscriber operation could not be done (unknown address, bad state change)."""


class DatabaseBusy(SubscriberError):
    """Another process held the database for longer than the busy timeout."""

    exit_code = EXIT_LOCKED


class RowsRejected(SubscriberError):
    """Some rows of an import were refused (each was reported with file:line)."""


class DeliveryError(NewsletterError):
    """A campaign could not be sent, or not completely."""


class AdapterError(DeliveryError):
    """The adapter cannot send at all (refused login, unwritable folder, bad settings).
    Nothing was handed over: the message may be sent again once the cause is fixed."""


class ConnectionLost(DeliveryError):
    """The connection broke during a send. ``uncertain`` is True when the whole message had
    been handed over and only the answer was lost: the server may have accepted it, so
    sending it again could deliver it twice."""

    def __init__(self, message: str, *, uncertain: bool):
        super().__init__(message)
        self.uncertain = uncertain


class ComposeError(DeliveryError):
    """A message cannot be built for one recipient (for example, the address is not usable)."""


class PreviewError(NewsletterError):
    """The preview server could not start."""


class ScreenshotError(NewsletterError):
    """Screenshots could not be taken (no Chromium, or it failed)."""


class DatabaseError(NewsletterError):
    """The SQLite database could not be read or written (see core.db.translate)."""


class DatabaseLocked(DatabaseError):
    """Another process held the database for longer than the busy timeout."""

    exit_code = EXIT_LOCKED


class DiskFull(DatabaseError):
    """The disk holding the database is full; nothing recorded is lost."""


class DatabaseCorrupt(DatabaseError):
    """The database file is damaged."""


class FeedbackError(NewsletterError):
    """Feedback (bounces, complaints, unsubscribe requests) could not be taken in."""


class MailboxError(FeedbackError):
    """The feedback mailbox cannot be read (connection, TLS, login, folder)."""

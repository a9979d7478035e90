"""The preview's HTML pages (Jinja2 templates in ./templates, autoescaped) and the toolbar's
choices, read from and written to the page's query string."""
from __future__ import annotations

import traceback
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape

from newsletter.core.files import display_path
from newsletter.core.errors import NewsletterError, SourceError, ValidationFailed

TEMPLATES = Path(__file__).with_name("templates")
WIDTHS = [("desktop", "Desktop (600 px+)"), ("375", "375 px"), ("320", "320 px")]
VIEWS = [("email", "Email"), ("text", "Plain text"), ("mjml", "MJML source"), ("html", "HTML source"),
         ("headers", "Headers")]


@dataclass(frozen=True)
class Selection:
    """What the toolbar shows: one variant, one sample subscriber, one width, one view."""

    language: str
    segment: str = "all"
    subscriber: str = ""
    width: str = "desktop"
    dark: bool = False
    view: str = "email"

    def query(self, **changes: Any) -> str:
        values = asdict(replace(self, **changes))
        params = {"lang": values["language"], "segment": values["segment"], "subscriber": values["subscriber"],
                  "width": values["width"], "view": values["view"]}
        if values["dark"]:
            params["dark"] = "1"
        return urlencode({k: v for k, v in params.items() if v != ""})


def selection_from(query: Mapping[str, list[str]], *, languages: list[str], default_language: str,
                   segments: list[str], views: list[str]) -> Selection:
    """The toolbar's state from a query string; anything unknown falls back to its default."""

    def one(name: str, allowed: list[str], default: str) -> str:
        value = (query.get(name) or [default])[0]
        return value if value in allowed else default

    return Selection(
        language=one("lang", languages, default_language),
        segment=one("segment", segments, "all"),
        subscriber=(query.get("subscriber") or [""])[0][:320],
        width=one("width", [w for w, _ in WIDTHS], "desktop"),
        dark=(query.get("dark") or [""])[0] in ("1", "on", "true"),
        view=one("view", views, "email"),
    )


@dataclass(frozen=True)
class ShownError:
    location: str
    field: str
    message: str
    source_line: str | None
    caret: str


def shown_errors(exc: BaseException, root: Path) -> list[ShownError]:
    """An error as the page lists it: file:line:column relative to the workspace, the field,
    the message and the offending line with a caret (like the command line's output)."""
    if isinstance(exc, ValidationFailed):
        return [_shown(e, root) for e in exc.errors]
    if isinstance(exc, SourceError):
        return [_shown(exc, root)]
    if isinstance(exc, NewsletterError):
        return [ShownError("", "", str(exc), None, "")]
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" (at {Path(last[0].filename).name}:{last[0].lineno})" if last else ""
    return [ShownError("", "", f"internal error: {type(exc).__name__}: {exc}{where}; "
                       "the terminal running `newsletter preview` shows the details", None, "")]


def _shown(err: SourceError, root: Path) -> ShownError:
    where = display_path(Path(err.path).resolve(), root) + (f":{err.line}" if err.line is not None else "") + (
        f":{err.column}" if err.line is not None and err.column is not None else "")
    caret = " " * max((err.column or 1) - 1, 0) + "^" if err.column else ""
    source = err.source_line.rstrip("\n") if err.source_line is not None and err.line is not None else None
    return ShownError(where, err.field, err.message, source, caret)


class Pages:
    def __init__(self) -> None:
        self.env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                               trim_blocks=True, lstrip_blocks=True, auto_reload=False)

    def render(self, template: str, **context: Any) -> bytes:
        return self.env.get_template(template).render(**context).encode("utf-8")

"""What every command shares: the context object and how errors are shown (exit codes are
the errors' own: core.errors).
Commands import this module, never ``newsletter.cli`` (which only finds and runs them)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from newsletter.core.errors import NewsletterError, ValidationFailed
from newsletter.core.files import display_path


class Context:
    """What every command receives: where the workspace is, loaded on first use."""

    def __init__(self, workspace: Path | None, debug: bool):
        self.workspace_dir = workspace
        self.debug = debug
        self._ws: Any = None

    def workspace_root(self) -> Path | None:
        if self._ws is not None:
            return self._ws.root
        return self.workspace_dir.resolve() if self.workspace_dir else None

    @property
    def ws(self):  # -> config.Workspace
        if self._ws is None:
            from newsletter.core.config import load_workspace

            self._ws = load_workspace(self.workspace_dir)
        return self._ws

    def shown(self, path: Path | str) -> str:
        """``path`` as the person at the terminal reads it (core.files.display_path: relative
        to the current folder when inside it, else to the workspace)."""
        return display_path(path, self.workspace_root(), Path.cwd())


pass_ctx = click.make_pass_decorator(Context)


def report_error(exc: NewsletterError, root: Path | None = None) -> None:
    if isinstance(exc, ValidationFailed):
        for err in exc.errors:
            err.path = display_path(err.path, root, Path.cwd())
        click.echo(exc.render(), err=True)
        click.secho(f"Error: {exc}", fg="red", err=True)
    else:
        click.secho(f"Error: {exc}", fg="red", err=True)

"""The `newsletter` command. Each command lives in its own module under newsletter/commands/
and only parses options, calls one function and prints the result.

Exit codes: 0 success; 1 the work found problems (invalid edition, failed deliveries, ...);
2 the command line itself was wrong (click's usage errors); 3 another process holds a lock.
"""
from __future__ import annotations

import importlib
import logging
import sys
from pathlib import Path
from typing import Any

import click

from newsletter import __version__
from newsletter.commands._context import Context, report_error
from newsletter.core.errors import NewsletterError


class Group(click.Group):
    """Finds commands in newsletter/commands/ and turns our errors into one clear message."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(_discover()))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return super().get_command(ctx, name) or _command(name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NewsletterError as exc:
            obj = ctx.find_object(Context)
            if obj is not None and obj.debug:
                raise
            root = obj.workspace_root() if obj is not None else None
            report_error(exc, root)
            ctx.exit(exc.exit_code)


_COMMANDS: dict[str, click.Command] | None = None


def _command(name: str) -> click.Command | None:
    """The command ``name``. Its module is named after it (build -> commands/build.py), so
    running one command imports that module only, not every other command's libraries
    (start-up time is most of a short command's time). Other names: every module is searched."""
    module_name = name.replace("-", "_")
    if _COMMANDS is None and module_name.isidentifier() and not module_name.startswith("_"):
        from newsletter import commands

        qualified = f"{commands.__name__}.{module_name}"
        try:
            module = importlib.import_module(qualified)
        except ModuleNotFoundError as exc:
            if exc.name != qualified:
                raise
        else:
            for cmd in getattr(module, "COMMANDS", ()):
                if cmd.name == name:
                    return cmd
    return _discover().get(name)


def _discover() -> dict[str, click.Command]:
    global _COMMANDS
    if _COMMANDS is None:
        from newsletter import commands

        import pkgutil  # only to list every command (help, an unknown name)

        found: dict[str, click.Command] = {}
        for info in pkgutil.iter_modules(commands.__path__):
            if info.name.startswith("_"):  # shared helpers such as _context, not commands
                continue
            module = importlib.import_module(f"{commands.__name__}.{info.name}")
            # Each module lists what it adds in COMMANDS.
            for cmd in getattr(module, "COMMANDS", ()):
                found[cmd.name] = cmd
        _COMMANDS = found
    return _COMMANDS


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("-C", "--workspace", type=click.Path(file_okay=False, path_type=Path),
              help="Workspace folder (default: the nearest folder upwards holding newsletter.yaml).")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logging.")
@click.version_option(__version__, prog_name="newsletter")
@click.pass_context
def main(ctx: click.Context, workspace: Path | None, debug: bool) -> None:
    """Write a newsletter as YAML and Markdown files, check it, preview it, and send it
    to segments of your subscribers.

    \b
    Typical month:
      newsletter new --like 2026-11     start next month's edition from this one
      newsletter check                  find mistakes (file:line for each)
      newsletter preview                look at it in your browser while you write
      newsletter send 2026-12 --segment all --dry-run

    Exit codes: 0 ok, 1 problems found, 2 wrong command line, 3 locked by another process.
    """
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = Context(workspace, debug)


def run() -> None:  # pragma: no cover - console entry point alias
    main(prog_name="newsletter")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

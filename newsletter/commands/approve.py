"""newsletter approve"""
from __future__ import annotations

import datetime as dt
import getpass
import subprocess

import click

from newsletter.commands._context import Context, pass_ctx


def _default_name() -> str:
    try:
        name = subprocess.run(["git", "config", "user.name"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        name = ""
    return name or getpass.getuser()


@click.command()
@click.argument("edition")
@click.option("--lang", "languages", multiple=True, required=True, metavar="LANG",
              help="Language to approve (repeatable, or comma-separated: --lang de,es).")
@click.option("--by", "by", metavar="NAME", help="Who approves (default: git's user.name, else your login).")
@pass_ctx
def approve(ctx: Context, edition: str, languages: tuple[str, ...], by: str | None) -> None:
    """Sign off LANG of EDITION as ready to send. The approval covers the texts as they are now:
    if they change, approve again. Recorded in issues/EDITION/approvals.yaml.

    \b
    Examples:
      newsletter approve 2026-12 --lang en
      newsletter approve 2026-12 --lang de,es --by "Rosa M."
    """
    from newsletter.content.approvals import approve as record
    from newsletter.content.loader import load_edition

    loaded = load_edition(ctx.ws, edition)
    wanted = [lang.strip() for item in languages for lang in item.split(",") if lang.strip()]
    for made in record(loaded, wanted, by or _default_name(), dt.datetime.now(dt.timezone.utc)):
        click.echo(f"{loaded.name} {made.language}: approved by {made.by} at {made.at}")


COMMANDS = [approve]

"""newsletter new"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from newsletter.commands._context import Context, pass_ctx
from newsletter.content.scaffold import create_edition
from newsletter.core.files import display_path


@click.command()
@click.option("--date", "month", metavar="YYYY-MM",
              help="Month of the edition; its folder is issues/YYYY-MM (default: the month after the latest).")
@click.option("--like", metavar="EDITION", help="Copy this edition (blocks, files, images) as a start.")
@pass_ctx
def new(ctx: Context, month: str | None, like: str | None) -> None:
    """Start a new edition in issues/YYYY-MM/ with the next edition number."""
    folder = create_edition(ctx.ws, month, like, dt.date.today())
    click.echo(f"Created {display_path(folder, ctx.ws.root, Path.cwd())}/edition.yaml")
    click.echo(f"Next: edit it, then run: newsletter check {folder.name}")


COMMANDS = [new]

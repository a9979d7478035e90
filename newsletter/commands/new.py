"""newsletter new"""
from __future__ import annotations

import datetime as dt

import click

from newsletter.commands._context import Context, pass_ctx


@click.command()
@click.option("--date", "month", metavar="YYYY-MM",
              help="Month of the edition; its folder is issues/YYYY-MM (default: the month after the latest).")
@click.option("--like", metavar="EDITION", help="Copy this edition (blocks, files, images) as a start.")
@pass_ctx
def new(ctx: Context, month: str | None, like: str | None) -> None:
    """Start a new edition in issues/YYYY-MM/ with the next edition number."""
    from newsletter.content.scaffold import create_edition

    folder = create_edition(ctx.ws, month, like, dt.date.today())
    click.echo(f"Created {ctx.shown(folder)}/edition.yaml")
    click.echo(f"Next: edit it, then run: newsletter check {folder.name}")


COMMANDS = [new]

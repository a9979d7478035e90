"""newsletter demo"""
from __future__ import annotations

import click

from newsletter.commands._context import Context, pass_ctx
from newsletter.core.errors import EXIT_PROBLEMS


@click.command()
@pass_ctx
def demo(ctx: Context) -> None:
    """Run the main job on this workspace: check, build the latest edition, import
    subscribers/sample.csv, and send to segment 'all' through the outbox adapter (files on
    disk; nothing is emailed). Safe to repeat: nobody is sent the same campaign twice."""
    from newsletter.demo import run_demo

    report = run_demo(ctx.ws, click.echo)
    if not report.all_delivered:
        ctx_exit = click.get_current_context()
        ctx_exit.exit(EXIT_PROBLEMS)


COMMANDS = [demo]

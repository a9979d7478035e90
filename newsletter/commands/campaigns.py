"""newsletter campaigns"""
from __future__ import annotations

import click

from newsletter.commands._context import Context, pass_ctx
from newsletter.campaign.journal import Journal
from newsletter.core import db
from newsletter.delivery.states import RecipientState as State


@click.group(invoke_without_command=True)
@click.pass_context
def campaigns(click_ctx: click.Context) -> None:
    """List campaigns with their counts per status (see `campaigns show ID` for one)."""
    if click_ctx.invoked_subcommand is None:
        click_ctx.invoke(list_campaigns)


@campaigns.command("list")
@pass_ctx
def list_campaigns(ctx: Context) -> None:
    """Every campaign in the send journal, newest last."""
    if not ctx.ws.db_path.exists():
        click.echo("No campaigns yet.")
        return
    with db.translated(ctx.ws.db_path), Journal(ctx.ws.db_path) as journal:
        rows = journal.campaigns()
        if not rows:
            click.echo("No campaigns yet.")
        for c in rows:
            counts = ", ".join(f"{k} {v}" for k, v in journal.counts(c.id).items() if v)
            segment = f"{c.segment} [{c.languages}]" if c.languages else c.segment   # a --lang wave
            click.echo(f"{c.id:>4}  {c.edition:<10} {segment:<14} {c.adapter:<8} {c.status:<9} {counts}")


@campaigns.command("show")
@click.argument("campaign_id", type=int)
@pass_ctx
def show(ctx: Context, campaign_id: int) -> None:
    """One campaign: its counts, every failure with the server's reply, and unknown recipients."""
    with db.translated(ctx.ws.db_path), Journal(ctx.ws.db_path) as journal:
        c = journal.campaign(campaign_id)
        click.echo(f"{c.name}: {c.status}" + (f" ({c.note})" if c.note else ""))
        click.echo(f"created {c.created}, updated {c.updated}")
        for status, n in journal.counts(c.id).items():
            click.echo(f"  {status:<17} {n}")
        for title, status in (("Failed permanently", State.FAILED_PERMANENT),
                              ("Failed temporarily (retried on resume)", State.FAILED_TEMPORARY),
                              ("Unknown (interrupted mid-handover; not resent without --resend-unknown)", State.SENDING)):
            rows = journal.rows(c.id, status)
            if rows:
                click.echo(f"{title}:")
                for row in rows:
                    click.echo(f"  {row.email:<40} {row.variant:<14} {row.reply or ''}")
        from newsletter.feedback.report import campaign_lines

        for line in campaign_lines(ctx.ws.db_path, c.id, journal.counts(c.id).get(State.SENT, 0)):
            click.echo(line)


COMMANDS = [campaigns]

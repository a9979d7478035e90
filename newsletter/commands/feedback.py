"""newsletter feedback fetch"""
from __future__ import annotations

import sys

import click

from newsletter.commands._context import Context, pass_ctx


@click.group()
def feedback() -> None:
    """What comes back from readers' mail servers: bounces, abuse reports (complaints) and
    mailto unsubscribe requests (docs/feedback.md)."""


@feedback.command("fetch")
@click.option("--dry-run", is_flag=True,
              help="Read and classify the mailbox (read-only) without changing anything, here or on the server.")
@pass_ctx
def fetch(ctx: Context, dry_run: bool) -> None:
    """Read the feedback mailbox (feedback.mailbox in newsletter.yaml, password in
    NEWSLETTER_IMAP_PASSWORD) and act on what it holds: hard bounces clean an address after
    delivery.bounce_limit, soft bounces add to a score, complaints and unsubscribe requests
    unsubscribe at once, auto-replies are ignored. Each message is handled once, then moved
    to the processed folder; what cannot be understood stays in the mailbox for a person.

    \b
    Examples:
      NEWSLETTER_IMAP_PASSWORD=... newsletter feedback fetch --dry-run
      NEWSLETTER_IMAP_PASSWORD=... newsletter feedback fetch
    """
    from newsletter.feedback.mailbox import fetch as fetch_mailbox

    settings = ctx.ws.settings.feedback.mailbox
    report = _Progress() if sys.stderr.isatty() else None
    summary = fetch_mailbox(ctx.ws, dry_run=dry_run, progress=report)
    where = f"{settings.username}@{settings.host}/{settings.folder}" if settings else "the mailbox"
    click.echo(f"{summary.messages} new message(s) in {where}"
               + (f", {summary.seen_before} handled before" if summary.seen_before else ""))
    if summary.verdicts:
        click.echo("  " + ", ".join(f"{kind} {n}" for kind, n in sorted(summary.verdicts.items())))
    for item in summary.recorded:
        e = item.event
        who = e.email or "?"
        where = f" campaign {e.campaign}" if e.campaign is not None else ""
        status = f" {e.status}" if e.status else ""
        click.echo(f"  {e.kind:<19} {who}{where}{status}: {item.outcome}")
    if summary.unknown:
        click.echo(f"{len(summary.unknown)} message(s) not understood; kept in the mailbox, flagged "
                   "$NewsletterUnknown, for a person to read:")
        for line in summary.unknown[:20]:
            click.echo(f"  {line}")
    if summary.still_unknown:
        click.echo(f"{summary.still_unknown} message(s) not understood earlier are still in the mailbox "
                   "(flagged $NewsletterUnknown): read them, then move or delete them yourself.")
    if dry_run:
        click.echo("Dry run: nothing was changed.")


class _Progress:
    def __call__(self, done: int, total: int) -> None:
        click.echo(f"\r  reading {done}/{total}", nl=False, err=True)
        if done == total:
            click.echo("", err=True)


COMMANDS = [feedback]

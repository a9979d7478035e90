"""newsletter segments [list | show NAME]"""
from __future__ import annotations

import click

from newsletter.commands._context import Context, pass_ctx


@click.group(invoke_without_command=True)
@click.pass_context
def segments(click_ctx: click.Context) -> None:
    """List the segments in subscribers/segments.yaml with how many subscribed people each
    holds; 'segments show NAME' lists the members of one."""
    if click_ctx.invoked_subcommand is None:
        click_ctx.invoke(list_)


@segments.command("list")
@pass_ctx
def list_(ctx: Context) -> None:
    """Each segment with its count of subscribed members."""
    from newsletter.subscribers.store import Store

    with Store.open(ctx.ws) as store:
        rows = [(seg.name, store.count(seg), seg.description) for seg in store.segments]
        statuses = store.status_counts()
    width = max(len(name) for name, _, _ in rows)
    for name, count, description in rows:
        click.echo(f"{name:<{width}}  {count:>7,}  {description}".rstrip())
    others = {k: v for k, v in sorted(statuses.items()) if k != "subscribed"}
    if others:
        click.echo("not in any segment: " + ", ".join(f"{v:,} {k}" for k, v in others.items()))


@segments.command("show")
@click.argument("name")
@click.option("--limit", type=click.IntRange(min=1), help="Show at most this many members.")
@pass_ctx
def show(ctx: Context, name: str, limit: int | None) -> None:
    """The subscribed members of segment NAME, in the order they were added."""
    from newsletter.subscribers.store import Store

    shown = 0
    with Store.open(ctx.ws) as store:
        segment = store.segment(name)
        total = store.count(segment)
        for sub in store.iter_segment(segment):
            if limit is not None and shown >= limit:
                break
            tags = ", ".join(sub.tags)
            click.echo(f"{sub.email}\t{sub.name}\t{sub.language or '-'}\t{sub.country or '-'}\t{tags}")
            shown += 1
    click.echo(f"{name}: {total:,} subscribed member(s)" + (f", {shown} shown" if shown < total else ""), err=True)


COMMANDS = [segments]

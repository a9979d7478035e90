"""newsletter schedule [list|cancel|release]"""
from __future__ import annotations

import click

from newsletter.commands._context import Context, pass_ctx

EXAMPLES = """
    \b
    Examples:
      newsletter send 2026-12 --segment all --at "2026-12-03 09:00 Europe/Berlin"
      newsletter schedule                  what is waiting, sending, held or failed
      newsletter schedule --all            also what was sent or cancelled
      newsletter schedule cancel 3         do not send scheduled send 3
      newsletter schedule release 4        send held send 4 now (it missed its time)
      newsletter send --due                what cron or a systemd timer runs (docs/scheduling.md)
"""


@click.group(invoke_without_command=True, help=f"""List scheduled sends (made with `newsletter send EDITION
    --segment S --at "DATE TIME ZONE"`): each one's id, state, time in its own time zone and in
    UTC, edition, segment and languages, and why it is held or failed.

    States: scheduled (waiting for its time), sending, sent, held (it could not start within
    the grace period after its time, schedule.grace_minutes in newsletter.yaml, or its edition
    was not ready then: never sent late unasked), failed, cancelled.
    {EXAMPLES}""")
@click.option("--all", "show_all", is_flag=True, help="Also list sent and cancelled ones.")
@click.pass_context
def schedule(click_ctx: click.Context, show_all: bool) -> None:
    if click_ctx.invoked_subcommand is None:
        click_ctx.invoke(list_schedules, show_all=show_all)


@schedule.command("list", help=f"""Scheduled sends, soonest first (by default those not sent or
    cancelled yet). {EXAMPLES}""")
@click.option("--all", "show_all", is_flag=True, help="Also list sent and cancelled ones.")
@pass_ctx
def list_schedules(ctx: Context, show_all: bool = False) -> None:
    from newsletter.campaign.schedule import Schedules

    with Schedules(ctx.ws.db_path) as schedules:
        rows = schedules.all(include_done=show_all)
    if not rows:
        click.echo("Nothing scheduled." if show_all else "Nothing scheduled (--all lists sent and cancelled ones too).")
        return
    click.echo(f"{'ID':>4}  {'STATE':<9}  WHEN (ITS TIME ZONE = UTC)  EDITION, SEGMENT, LANGUAGES, ADAPTER  (WHY)")
    for row in rows:
        click.echo(row.describe())


@schedule.command("cancel", help=f"""Do not send scheduled send ID (one not started: scheduled,
    held or failed). Sending it later needs a new `send --at`. {EXAMPLES}""")
@click.argument("schedule_id", metavar="ID", type=int)
@pass_ctx
def cancel(ctx: Context, schedule_id: int) -> None:
    from newsletter.campaign.schedule import Schedules

    with Schedules(ctx.ws.db_path) as schedules:
        click.echo(f"Cancelled: {schedules.cancel(schedule_id).describe()}")


@schedule.command("release", help=f"""Send held (or failed) scheduled send ID now, once you agree:
    it asks first unless --yes. The edition is checked again and sent exactly as `newsletter send
    EDITION --segment S --yes` sends it (the journal resumes, nobody gets it twice).

    Exit code 0 when every recipient got it, 1 when some failed, 3 when another process is
    sending it, 130/143 when stopped by Ctrl-C/SIGTERM (`newsletter send --due` resumes it).
    {EXAMPLES}""")
@click.argument("schedule_id", metavar="ID", type=int)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation (for scripts).")
@click.pass_context
def release(click_ctx: click.Context, schedule_id: int, yes: bool) -> None:
    from newsletter.commands import _scheduled
    from newsletter.commands.send import send

    code = _scheduled.release(click_ctx, click_ctx.find_object(Context), send, schedule_id, yes)
    click_ctx.exit(code)


COMMANDS = [schedule]

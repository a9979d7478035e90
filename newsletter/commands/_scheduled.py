"""Scheduled sends as the commands run them: ``send EDITION --at``, ``send --due`` and
``schedule release``. A due send goes through the ``send`` command itself (passed in as
``send_command``, invoked as ``send EDITION --segment S --yes`` with the recorded options), so
it checks, journals, resumes and keeps the edition-once rule exactly as a send by hand does.
The states and the claims are campaign/schedule.py's."""
from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass
from typing import Any, Callable

import click

from newsletter.campaign.journal import Journal, LeaseOwner
from newsletter.campaign.schedule import (HELD, Schedule, ScheduleError, Schedules, clock_from_env, heartbeat,
                                          parse_at, refuse_past)
from newsletter.commands._context import Context, report_error
from newsletter.core.errors import EXIT_LOCKED, EXIT_PROBLEMS, NewsletterError, ValidationFailed
from newsletter.delivery.states import RecipientState as State

# The exit codes of a send stopped by Ctrl-C / SIGTERM (commands/send.py's EXIT_SIGNALLED).
EXIT_SIGNALLED = (130, 143)
# The send options a scheduled send keeps (the names of the send command's parameters).
KEPT_OPTIONS = ("rate", "per_hour", "connections", "resend_unknown", "again", "skip_publish_check")
# The send command's parameters ``handled`` reads.
KEPT = (*KEPT_OPTIONS, "adapter", "dry_run", "tests", "languages")


def options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--at`` and ``--due`` on the send command. Their values go to the click context's
    ``meta``, not to the command's parameters, so the send command's signature stays its own."""
    at = click.option("--at", callback=_at_option, expose_value=False, metavar='"DATE TIME ZONE"',
                      help='Do not send now: schedule it, e.g. --at "2026-12-03 09:00 Europe/Berlin" (the time '
                           "zone is required: an IANA name or UTC; see docs/scheduling.md). The edition is "
                           "checked now and again when `newsletter send --due` sends it.")
    due = click.option("--due", is_flag=True, expose_value=False, callback=_remember,
                       help="Send every scheduled send that is due now, hold those too late (for cron or a "
                            "systemd timer; no EDITION). With --dry-run: show what it would do.")
    return at(due(command))


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    ctx.meta[f"newsletter.{param.name}"] = value
    return value


def _at_option(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[dt.datetime, str] | None:
    """``--at`` read as (instant in UTC, zone name); an unclear time is a usage error."""
    if value is not None:
        try:
            value = parse_at(value)   # type: ignore[assignment]
        except ScheduleError as exc:
            raise click.BadParameter(str(exc).removeprefix(f"--at {value!r}: ")) from None
    return _remember(ctx, param, value)


def handled(ctx: Context, send_command: click.Command, edition: str | None, segment: str | None,
            **send_options: Any) -> bool:
    """``send --due`` and ``send EDITION --at``: True when it was one of them (done here)."""
    click_ctx = click.get_current_context()
    # Popped: click shares ``meta`` with nested contexts, and a due send invokes this command again.
    at, due = click_ctx.meta.pop("newsletter.at", None), click_ctx.meta.pop("newsletter.due", False)
    if due:
        # Each scheduled send keeps its own options: any given here would be silently ignored.
        given = [name for name, value in (("EDITION", edition), ("--segment", segment), ("--at", at),
                                          ("--lang", send_options.get("languages")),
                                          ("--adapter", send_options.get("adapter"))) if value]
        given += [f"--{k.replace('_', '-')}" for k in KEPT_OPTIONS if send_options.get(k) not in (None, False)]
        if given or send_options.get("tests"):
            raise click.UsageError(f"--due sends what was scheduled; it takes no {', '.join(given) or '--test'}")
        run = preview_due if send_options.get("dry_run") else run_due
        click_ctx.exit(run(click_ctx, ctx, send_command))
    if not edition or not segment:
        raise click.UsageError("name the EDITION and a --segment (or pass --due to send what is scheduled)")
    if at is None:
        return False
    if send_options.get("tests"):
        raise click.UsageError("--test sends now; try it first, then schedule without --test")
    adapter = send_options.get("adapter") or ctx.ws.settings.delivery.adapter
    kept = {k: send_options[k] for k in KEPT_OPTIONS if send_options.get(k) not in (None, False)}
    schedule_send(ctx, edition, segment, adapter, at, kept, tuple(send_options.get("languages") or ()),
                  dry_run=bool(send_options.get("dry_run")))
    return True


def schedule_send(ctx: Context, edition: str, segment: str, adapter: str, at: tuple[dt.datetime, str],
                  options: dict[str, Any], languages: tuple[str, ...] = (), dry_run: bool = False) -> None:
    """Check and render the edition now, then record the send for ``send --due`` to start."""
    from newsletter.campaign import plan as campaign
    from newsletter.core import db
    from newsletter.subscribers.store import Store

    ws, (due, zone) = ctx.ws, at
    clock = clock_from_env()
    with db.translated(ws.db_path), Store.open(ws) as store:
        refuse_past(due, zone, clock())   # before the edition is rendered for nothing
        # Checks (errors refuse) and renders; --lang values are checked and put in order too.
        the_plan = campaign.make_plan(ws, store, edition, segment, languages=languages)
    languages = the_plan.languages
    preview = Schedule(0, the_plan.edition, segment, languages, adapter, due, zone, "scheduled", options, None, due)
    by_lang = ", ".join(f"{k} {v}" for k, v in sorted(the_plan.by_language().items())) or "-"
    click.echo(f"Edition {the_plan.edition} checked and rendered: {len(the_plan.variants)} variant(s); segment "
               f"'{segment}' has {the_plan.total} recipient(s) now (by language: {by_lang}); they are counted "
               "again when it is sent")
    _warn_unapproved(ws, the_plan, preview)
    if dry_run:
        click.echo(f"Dry run: would schedule {preview.target}\n  at {preview.when}\nNothing was recorded.")
        return
    with Schedules(ws.db_path, clock) as schedules:
        made = schedules.add(the_plan.edition, segment, adapter, due, zone, languages, options)
    click.echo(f"Scheduled send {made.id}: {made.target}\n  at {made.when}")
    click.echo(f"`newsletter schedule` lists it, `newsletter schedule cancel {made.id}` cancels it; "
               "`newsletter send --due` (run by cron or a systemd timer: docs/scheduling.md) sends it.")


def _warn_unapproved(ws: Any, the_plan: Any, preview: Schedule) -> None:
    """Translations may land after scheduling: say which languages still need a sign-off."""
    from newsletter.campaign import waves

    for state in waves.approvals_for(ws, the_plan.loaded, the_plan.languages).refused():
        click.echo(f"  note: {state.describe()}; approve it before {preview.local_due:%Y-%m-%d %H:%M %Z}, "
                   "or the send is held then (translations.require_approval)")


@dataclass
class Outcome:
    status: str               # sent | failed | held | stopped | locked
    note: str | None = None
    exit_code: int = 0


def run_due(click_ctx: click.Context, ctx: Context, send_command: click.Command) -> int:
    """Start every due scheduled send (and resume interrupted ones); hold the ones too late.
    Returns the exit code: 0 all sent or nothing due, 1 something failed or was held, 3 a
    campaign or the database was locked, 130/143 stopped by a signal."""
    ws, clock = ctx.ws, clock_from_env()
    grace = dt.timedelta(minutes=ws.settings.schedule.grace_minutes)
    owner = str(LeaseOwner.this_process())
    with Schedules(ws.db_path, clock) as schedules:
        candidates = schedules.interrupted() + schedules.due()
        outcomes: list[Outcome] = []
        for item in candidates:
            verdict = schedules.claim(item, grace, owner)
            if verdict == "taken":
                continue
            if verdict == "held":
                held = schedules.get(item.id)
                click.echo(f"Scheduled send {item.id} ({item.target}, due {item.when}): HELD, {held.note}; "
                           f"or drop it: newsletter schedule cancel {item.id}")
                outcomes.append(Outcome(HELD, exit_code=EXIT_PROBLEMS))
                continue
            outcomes.append(send_one(click_ctx, ctx, send_command, schedules, schedules.get(item.id), owner))
            if outcomes[-1].status == "stopped":
                break
        if not candidates and sys.stdout.isatty():   # quiet otherwise: cron mails whatever a job prints
            _nothing_due(schedules)
    if outcomes:
        counts = {s: sum(o.status == s for o in outcomes) for s in ("sent", "failed", "held", "locked", "stopped")}
        click.echo("send --due: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n))
    return _exit_code(outcomes)


def preview_due(click_ctx: click.Context, ctx: Context, send_command: click.Command) -> int:
    """``send --due --dry-run``: what a run now would send and hold; claims and sends nothing."""
    ws, clock = ctx.ws, clock_from_env()
    grace = dt.timedelta(minutes=ws.settings.schedule.grace_minutes)
    with Schedules(ws.db_path, clock) as schedules:
        candidates = schedules.interrupted() + schedules.due()
        for item in candidates:
            why = schedules.too_late(item, grace)
            click.echo(f"Scheduled send {item.id}: {item.target}, due {item.when}: "
                       + (f"would be HELD ({why})" if why else "would be sent; its dry run:"))
            if why is None:
                _invoke(click_ctx, send_command, item, dry_run=True)
        if not candidates:
            _nothing_due(schedules)
    click.echo("Dry run: nothing was claimed, sent or held.")
    return 0


def _nothing_due(schedules: Schedules) -> None:
    upcoming = schedules.next_due()
    click.echo("Nothing due." + (f" Next: scheduled send {upcoming.id} at {upcoming.when}." if upcoming else ""))


def _exit_code(outcomes: list[Outcome]) -> int:
    codes = {o.exit_code for o in outcomes} - {0}
    signalled = codes - {EXIT_PROBLEMS, EXIT_LOCKED}
    if signalled:
        return max(signalled)
    return EXIT_PROBLEMS if EXIT_PROBLEMS in codes else (EXIT_LOCKED if EXIT_LOCKED in codes else 0)


def release(click_ctx: click.Context, ctx: Context, send_command: click.Command, schedule_id: int,
            yes: bool) -> int:
    """Send a held (or failed) scheduled send now, once the editor agrees."""
    ws = ctx.ws
    with Schedules(ws.db_path, clock_from_env()) as schedules:
        item = schedules.get(schedule_id)
        if item.status not in (HELD, "failed"):
            raise ScheduleError(f"scheduled send {schedule_id} is {item.status}; only a held or failed one "
                                "can be released" + (" (`newsletter send --due` sends it at its time)"
                                                     if item.status == "scheduled" else ""))
        click.echo(f"Scheduled send {item.id}: {item.target}, due {item.when}"
                   + (f"\n  {item.status}: {item.note}" if item.note else ""))
        if not yes:
            if not sys.stdin.isatty():
                raise click.UsageError("releasing a held send needs confirmation: pass --yes")
            click.confirm("Send it now?", abort=True)
        owner = str(LeaseOwner.this_process())
        outcome = send_one(click_ctx, ctx, send_command, schedules, schedules.release(schedule_id, owner), owner)
    return outcome.exit_code


def send_one(click_ctx: click.Context, ctx: Context, send_command: click.Command, schedules: Schedules,
             item: Schedule, owner: str) -> Outcome:
    """Send (or resume) one claimed schedule through the send command and record how it went."""
    click.echo(f"Scheduled send {item.id}: {item.target}, due {item.when}")
    with heartbeat(ctx.ws.db_path, item.id, owner, schedules.clock):
        outcome = _invoke(click_ctx, send_command, item)
    if outcome.status in ("sent", "failed"):
        note = outcome.note or _journal_note(ctx, item)
        schedules.finish(item.id, outcome.status == "sent", note)
    elif outcome.status == HELD:
        schedules.hold(item.id, f"{outcome.note}; then `newsletter schedule release {item.id}` sends it")
    else:
        schedules.stopped(item.id, outcome.note or outcome.status)
    shown = schedules.get(item.id)
    click.echo(f"Scheduled send {item.id}: {shown.status}" + (f" ({shown.note})" if shown.note else ""))
    return outcome


def _invoke(click_ctx: click.Context, send_command: click.Command, item: Schedule, dry_run: bool = False) -> Outcome:
    params = {p.name for p in send_command.params}
    kwargs = {k: v for k, v in item.options.items() if k in KEPT_OPTIONS and k in params}
    if item.languages:
        kwargs["languages"] = item.languages
    try:
        click_ctx.invoke(send_command, edition=item.edition, segment=item.segment, adapter=item.adapter,
                         yes=True, dry_run=dry_run, **kwargs)
    except click.exceptions.Exit as exc:
        if exc.exit_code == 0:
            return Outcome("sent")
        if exc.exit_code in EXIT_SIGNALLED:
            return Outcome("stopped", f"stopped by a signal (exit {exc.exit_code}); the next `newsletter send "
                                      "--due` resumes it", exc.exit_code)
        return Outcome("failed", exit_code=EXIT_PROBLEMS)
    except click.ClickException as exc:   # a usage error of the recorded options
        click.secho(f"Error: {exc.format_message()}", fg="red", err=True)
        return Outcome("failed", f"not sent: {exc.format_message()}", EXIT_PROBLEMS)
    except NewsletterError as exc:
        return _refused(click_ctx.find_object(Context), exc)
    return Outcome("sent")


def _refused(ctx: Context, exc: NewsletterError) -> Outcome:
    """The send would not start: why, and what becomes of the schedule."""
    from newsletter.campaign.plan import NotReady
    from newsletter.campaign.waves import NotApproved

    report_error(exc, ctx.workspace_root())
    first = str(exc).splitlines()[0]
    if isinstance(exc, ValidationFailed) and exc.errors:   # '1 error' alone says nothing in the listing
        more = len(exc.errors) - 1
        first = f"{exc.errors[0]}" + (f" (and {more} more)" if more else "")
    if exc.exit_code == EXIT_LOCKED:
        return Outcome("locked", f"another process holds it ({first}); the next `newsletter send --due` "
                                 "resumes it", EXIT_LOCKED)
    if isinstance(exc, NotApproved):
        return Outcome(HELD, f"not sent: {'; '.join(exc.refusals)} (translations.require_approval); approve "
                             f"with `newsletter approve {exc.edition} --lang L`", EXIT_PROBLEMS)
    if isinstance(exc, (NotReady, ValidationFailed)):
        return Outcome("failed", f"not sent: the edition no longer checks: {first}", EXIT_PROBLEMS)
    return Outcome("failed", f"not sent: {first}", EXIT_PROBLEMS)


def _journal_note(ctx: Context, item: Schedule) -> str | None:
    """Where the campaign stands in the send journal, for the listing."""
    with Journal(ctx.ws.db_path) as journal:
        found = journal.find_campaign(item.edition, item.segment, item.adapter, item.languages)
        if found is None:
            return None
        counts = journal.counts(found.id)
    shown = ", ".join(f"{state} {n}" for state, n in counts.items() if n) or "nobody to send to"
    pending = sum(counts.get(s, 0) for s in (State.PENDING, State.FAILED_TEMPORARY, State.SENDING))
    more = f"; `newsletter schedule release {item.id}` resumes it" if pending else ""
    return f"campaign {found.id}: {shown}{more}"

"""newsletter send"""
from __future__ import annotations

import sys
import time
from typing import Any

import click

from newsletter.campaign import plan as campaign, waves
from newsletter.commands._context import Context, pass_ctx
from newsletter.commands import _scheduled
from newsletter.core import db
from newsletter.core.errors import EXIT_PROBLEMS, NewsletterError
from newsletter.core.adapters import ADAPTERS
from newsletter.campaign.runner import Progress, RunOptions
from newsletter.subscribers.store import Store

# A run stopped by a signal exits as a shell reports a process killed by it: 128 + the number.
EXIT_SIGNALLED = {"SIGINT": 130, "SIGTERM": 143}


@click.command()
@click.argument("edition", required=False)
@click.option("--segment", "-s", metavar="NAME",
              help="Who receives it: a segment from subscribers/segments.yaml ('all' for everyone subscribed).")
@click.option("--lang", "languages", multiple=True, metavar="LANG",
              help="Send only to readers whose variant is in LANG (comma-separated or repeatable): a wave. "
                   "Readers of a language the edition lacks get the source language and count as it. "
                   "A later --lang sends to the others; nobody gets the edition twice.")
@click.option("--adapter", type=click.Choice(sorted(ADAPTERS)),
              help="How to deliver (default: delivery.adapter in newsletter.yaml): outbox writes .eml "
                   "files, smtp sends through NEWSLETTER_SMTP_URL, ses through Amazon SES (settings "
                   "section ses; AWS credentials the usual way), console prints one line each.")
@click.option("--dry-run", is_flag=True,
              help="Send nothing: show recipients per language and variant, each language's approval, the "
                   "readers still waiting per language, and write one sample message per variant.")
@click.option("--test", "tests", multiple=True, metavar="ADDRESS",
              help="Send one message per variant to ADDRESS (repeatable), subject prefixed [TEST]; not recorded "
                   "in the journal. Also for languages not approved yet: test messages are for reviewers.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation (for scripts).")
@click.option("--rate", type=float, metavar="N", help="At most N messages per second.")
@click.option("--per-hour", type=int, metavar="N", help="At most N messages per hour.")
@click.option("--connections", type=click.IntRange(1, 32), help="Parallel SMTP connections.")
@click.option("--resend-unknown", is_flag=True,
              help="Also send to recipients whose earlier send was interrupted mid-handover (they may get it twice).")
@click.option("--again", is_flag=True,
              help="Send even to people who already received this edition (from another segment's campaign, "
                   "or from this one once it has finished).")
@click.option("--skip-publish-check", is_flag=True,
              help="Send even if the edition's images and archive pages do not answer online yet.")
@_scheduled.options
@pass_ctx
def send(ctx: Context, edition: str, segment: str, languages: tuple[str, ...], adapter: str | None, dry_run: bool,
         tests: tuple[str, ...], yes: bool, rate: float | None, per_hour: int | None, connections: int | None,
         resend_unknown: bool, again: bool = False, skip_publish_check: bool = False) -> None:
    """Send EDITION to a segment of subscribers, or resume the send if it was interrupted.

    The send journal records every recipient as their message completes: running the same
    command again continues where it stopped and never sends anyone the same campaign twice.
    Each edition reaches a person once, whatever segments it is sent to, unless you pass
    --again (outbox and console rehearsals do not count as received).
    Try --dry-run first, then --test you@example.org, then the real send.

    Language by language: --lang en,de sends to the readers of those languages now, --lang es
    later reaches the rest. Where newsletter.yaml sets translations.require_approval, a send
    refuses, before anything goes out, a language that is not approved (newsletter approve) or
    changed since; without --lang that is any language of the edition. The source language
    needs no approval. See docs/translation.md.

    \b
    Examples:
      newsletter send 2026-12 --segment all --dry-run
      newsletter send 2026-12 --segment all --test me@example.org
      newsletter send 2026-12 --segment all --adapter smtp --rate 10
      newsletter send 2026-12 --segment all --adapter smtp --resend-unknown
      newsletter send 2026-12 --segment all --lang en,de --dry-run
      newsletter send 2026-12 --segment all --lang en,de
      newsletter send 2026-12 --segment all --lang es

    Ctrl-C or SIGTERM stops cleanly: no new message is started, the ones in hand are finished,
    and the counts are printed; run the same command again to resume.

    Scheduled sends (docs/scheduling.md): --at records one (checked and rendered now, checked
    again when due); --due, run by cron or a systemd timer, sends what is due.

    \b
      newsletter send 2026-12 --segment all --at "2026-12-03 09:00 Europe/Berlin"
      newsletter send --due

    Exit code 0 when every recipient got the message, 1 when some failed, are unknown or the
    campaign paused, 3 when another process is sending this campaign or holds the database,
    130/143 when stopped by Ctrl-C/SIGTERM.
    """
    if _scheduled.handled(ctx, send, edition, segment, **{k: v for k, v in locals().items() if k in _scheduled.KEPT}):
        return
    ws = ctx.ws
    adapter = adapter or ws.settings.delivery.adapter
    with db.translated(ws.db_path), Store.open(ws) as store:
        the_plan = campaign.make_plan(ws, store, edition, segment, languages=languages)
        approvals = waves.approvals_for(ws, the_plan.loaded, the_plan.languages)
        _describe(the_plan, adapter)
        _describe_languages(ws, the_plan, approvals)
        ahead = campaign.forecast(ws, the_plan, adapter, resend_unknown=resend_unknown, again=again)
        _describe_forecast(the_plan, ahead, adapter, again)
        if dry_run:
            for path in campaign.write_samples(ws, the_plan, ws.build_dir / the_plan.edition / "dry-run"):
                click.echo(f"sample message: {ctx.shown(path)}")
            click.echo("Dry run: nothing was sent.")
            return
        if not tests:   # test messages go to reviewers, approved or not
            waves.check_approved(approvals, the_plan.loaded, segment, the_plan.languages)
        _publish_check(ws, the_plan, adapter, skip_publish_check)
        if tests:
            for line in campaign.send_tests(ws, the_plan, tests, adapter):
                click.echo(f"test: {line}")
            return
        if not the_plan.total and not ahead.waiting:
            click.echo("Nobody to send to.")
            return
        if not _confirm(ahead, the_plan.edition, adapter, yes):
            return
        options = RunOptions.from_settings(ws.settings.delivery, resend_unknown=resend_unknown,
                                           **_overrides(rate_per_second=rate, rate_per_hour=per_hour, connections=connections))
        with _progress_bar(ahead.to_send) as report:
            summary = campaign.send(ws, store, the_plan, adapter, options=options, progress=report, again=again)
    for line in campaign.iter_summary_lines(summary):
        click.echo(line)
    if summary.stopped:
        click.get_current_context().exit(EXIT_SIGNALLED.get(summary.stopped, EXIT_PROBLEMS))
    if not summary.all_delivered:
        click.get_current_context().exit(EXIT_PROBLEMS)
    if adapter == "outbox":
        click.echo(f"Messages are in {ctx.shown(ws.outbox_dir)}/")


def _publish_check(ws: Any, the_plan: campaign.SendPlan, adapter: str, skip: bool) -> None:
    """Refuse to send an email whose images and pages are not online (publish/reachable.py)."""
    if adapter in ("outbox", "console"):
        click.echo(f"  publish check skipped: the {adapter} adapter keeps the messages on this machine")
        return
    if skip:
        click.echo("  publish check skipped (--skip-publish-check)")
        return
    from newsletter.publish.reachable import unpublished

    missing = unpublished(ws, the_plan.loaded)
    if missing:
        lines = "\n".join(f"  {m.url} ({m.problem})" for m in missing)
        raise NewsletterError(
            f"{len(missing)} public address(es) of {the_plan.edition} do not answer, so the email would "
            f"arrive with broken images or links:\n{lines}\nPublish them first: newsletter publish "
            f"{the_plan.edition} (see docs/publish.md), or send anyway with --skip-publish-check")
    click.echo("  publish check: the edition's images and pages answer online")


def _overrides(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _describe(the_plan: campaign.SendPlan, adapter: str) -> None:
    ed = the_plan.loaded.edition
    click.echo(f"Edition {the_plan.edition} (number {ed.number}) to segment '{the_plan.segment}' "
               f"via {adapter}: {the_plan.total} recipient(s)")
    by_lang = the_plan.by_language()
    click.echo("  by language: " + (", ".join(f"{k} {v}" for k, v in sorted(by_lang.items())) or "-"))
    click.echo("  by variant:  " + (", ".join(f"{k} {v}" for k, v in sorted(the_plan.counts.items())) or "-"))


def _describe_languages(ws: Any, the_plan: campaign.SendPlan, approvals: waves.Approvals) -> None:
    if the_plan.languages:
        click.echo(f"  this wave: {', '.join(the_plan.languages)} (readers of other languages are left for "
                   "another --lang)")
    for line in waves.approval_lines(approvals):
        click.echo(line)
    waiting = waves.waiting_by_language(ws, the_plan.edition, the_plan.everyone)
    click.echo(f"  still waiting for {the_plan.edition} in segment '{the_plan.segment}', per language "
               "(not received from any campaign that reaches people): "
               + (", ".join(f"{k} {v}" for k, v in sorted(waiting.items())) or "-"))


def _describe_forecast(the_plan: campaign.SendPlan, ahead: campaign.Forecast, adapter: str, again: bool) -> None:
    if ahead.journal:
        click.echo("  resuming: the journal has " + ", ".join(f"{k} {v}" for k, v in ahead.journal.items() if v)
                   + " (nobody recorded as sent is sent to again)")
    if ahead.received:
        click.echo(f"  already received {the_plan.edition} from another campaign: {ahead.received} "
                   "(skipped; --again sends to them too)")
    elif again:
        click.echo("  --again: people who already received this edition get it again")
    click.echo(f"  to send now: {ahead.to_send}")


def _confirm(ahead: campaign.Forecast, edition: str, adapter: str, yes: bool) -> bool:
    """Ask before an irreversible send; False when there is nothing left to send."""
    if ahead.to_send <= 0 and ahead.received and not ahead.journal:
        click.echo(f"Nothing left to send: everyone it would reach has received {edition} from another campaign.")
        return False
    if ahead.to_send <= 0:
        click.echo("Nothing left to send: this campaign is complete."
                   + (" Unknown recipients stay as they are; --resend-unknown sends to them."
                      if ahead.journal.get("sending") else ""))
        return False
    if yes:
        return True
    if not sys.stdin.isatty():
        raise click.UsageError("a real send needs confirmation: pass --yes (or try --dry-run first)")
    click.confirm(f"Send to {ahead.to_send} recipient(s) via {adapter} now?", abort=True)
    return True


class _progress_bar:
    """A progress bar (on standard error) with rate and time left, fed by the runner."""

    def __init__(self, total: int):
        # Only on a terminal: in a log file a redrawn bar is noise; the summary says it all.
        self.bar = click.progressbar(length=total, label="Sending", show_eta=True, show_pos=True,
                                     file=sys.stderr if sys.stderr.isatty() else _Null(),
                                     item_show_func=self._rate)
        self.done = 0
        self.last: Progress | None = None
        self.waiting_until: float | None = None

    def _rate(self, _item: Any) -> str:
        if self.last and self.last.waiting_until:
            return f"waiting for the server until {time.strftime('%H:%M:%S', time.localtime(self.last.waiting_until))}"
        return f"{self.last.rate:.0f} msg/s" if self.last else ""

    def __enter__(self) -> Any:
        self.bar.__enter__()
        return self.update

    def update(self, progress: Progress) -> None:
        if progress.waiting_until and progress.waiting_until != self.waiting_until:
            # Said once per wait also where there is no bar (a log): the wait can be long.
            until = time.strftime("%H:%M:%S", time.localtime(progress.waiting_until))
            click.echo(f"waiting for the server until {until}: {progress.waiting_for}", err=True)
        self.waiting_until = progress.waiting_until
        self.last = progress
        if progress.total != self.bar.length:
            self.bar.length = progress.total
        self.bar.update(progress.done - self.done)
        self.done = progress.done

    def __exit__(self, *exc: Any) -> None:
        self.bar.__exit__(*exc)


COMMANDS = [send]


class _Null:
    def write(self, _text: str) -> int:
        return 0

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

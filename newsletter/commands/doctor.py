"""newsletter doctor [--adapter NAME] [--nameserver IP[:PORT]] [--skip-urls] [--skip-delivery]"""
from __future__ import annotations

import click

from newsletter.commands._context import Context, pass_ctx
from newsletter.core.errors import EXIT_PROBLEMS
from newsletter.core.adapters import ADAPTERS

MARK = {"ok": ("ok", "green"), "warning": ("note", "yellow"), "problem": ("PROBLEM", "red")}


@click.command()
@click.option("--adapter", type=click.Choice(sorted(ADAPTERS)),
              help="Check this delivery adapter (default: delivery.adapter in newsletter.yaml).")
@click.option("--nameserver", metavar="IP[:PORT]",
              help="Ask this DNS server instead of the system's (e.g. your DNS provider's, right after a change).")
@click.option("--skip-urls", is_flag=True, help="Do not fetch the archive and unsubscribe addresses.")
@click.option("--skip-delivery", is_flag=True, help="Do not connect to the delivery adapter.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=10, show_default=True,
              help="Seconds to wait for each DNS, web or mail server answer.")
@pass_ctx
def doctor(ctx: Context, adapter: str | None, nameserver: str | None, skip_urls: bool, skip_delivery: bool,
           timeout: float) -> None:
    """Check that this workspace is ready to send, and say what to fix: the sender domain's SPF,
    DKIM and DMARC records and their alignment with the From address, the signing key against
    the published one, the public addresses (archive, unsubscribe), and that the delivery
    adapter connects and logs in (nothing is sent). Exit code 0 when ready, 1 with the list
    of problems.

    \b
    Examples:
      newsletter doctor
      newsletter doctor --adapter ses
      newsletter doctor --nameserver 192.0.2.53 --skip-urls
    """
    from newsletter.doctor.checks import Dns, run_doctor

    ws = ctx.ws
    dns_ = None
    if nameserver:
        host, _, port = nameserver.rpartition(":") if nameserver.count(":") == 1 else (nameserver, "", "")
        if port and not port.isdigit():
            raise click.BadParameter(f"expected IP or IP:PORT, got {nameserver!r}", param_hint="--nameserver")
        dns_ = Dns(host or nameserver, int(port) if port else 53, timeout=timeout)
    findings = run_doctor(ws, dns_=dns_, adapter=adapter, urls=not skip_urls, check_delivery=not skip_delivery,
                          timeout=timeout, progress=lambda what: click.echo(f"checking {what} ...", err=True))
    for f in findings:
        word, colour = MARK[f.level]
        click.echo(f"{click.style(f'{word:<7}', fg=colour)}  {f.topic}: {f.text}")
    problems = [f for f in findings if f.is_problem]
    if problems:
        click.echo(f"\n{len(problems)} problem(s) to fix before sending; run `newsletter doctor` again afterwards.")
        ctx_exit = click.get_current_context()
        ctx_exit.exit(EXIT_PROBLEMS)
    click.echo("\nReady to send.")


COMMANDS = [doctor]

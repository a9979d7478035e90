"""newsletter check"""
from __future__ import annotations

import click

from newsletter.commands._context import Context, pass_ctx
from newsletter.core.errors import ChecksFailed


@click.command()
@click.argument("editions", nargs=-1)
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 1 on any warning).")
@click.option("-q", "--quiet", is_flag=True, help="Print only problems.")
@pass_ctx
def check(ctx: Context, editions: tuple[str, ...], strict: bool, quiet: bool) -> None:
    """Check editions for mistakes (all editions when none is named).

    Every problem is shown at once with file:line:column, the field, what was expected and
    what was found. Warnings cover texts that fall back to the default language, raw HTML in
    Markdown and email lints (size, subject length, ...). Exit code 1 when anything is wrong.
    """
    from newsletter.check.checker import run_check

    reports = run_check(ctx.ws, list(editions) or None)
    errors = warnings = 0
    for report in reports:
        e, w = report.count("error"), report.count("warning")
        errors, warnings = errors + e, warnings + w
        for finding in report.findings:
            colour = "red" if finding.level == "error" else "yellow"
            text = str(finding) if finding.where else f"{report.name}: {finding}"
            click.secho(text, fg=colour, err=finding.level == "error")
        if not quiet:
            ed = report.loaded.edition
            status = (f"{e} error(s)" if e else f"{w} warning(s) fail --strict" if strict and w else "ok")
            click.echo(f"{report.name}: {status} - edition {ed.number}, {len(ed.blocks)} blocks, "
                       f"languages {', '.join(ed.languages)}, {w} warning(s)")
    if errors or (strict and warnings):
        raise ChecksFailed(f"{errors} error(s), {warnings} warning(s)" + (" (--strict)" if strict and not errors else ""))


COMMANDS = [check]

"""newsletter publish"""
from __future__ import annotations

import click

from pathlib import Path

from newsletter.commands._context import Context, pass_ctx
from newsletter.core.files import display_path


@click.command()
@click.argument("editions", nargs=-1, metavar="[EDITION]...")
@click.option("--to", "to", metavar="TARGET",
              help="A folder (default: publish.target in newsletter.yaml, else site/) or "
                   "s3://BUCKET/PREFIX (credentials and endpoint from the environment).")
@click.option("--dry-run", is_flag=True, help="List what would be written or uploaded; change nothing.")
@pass_ctx
def publish(ctx: Context, editions: tuple[str, ...], to: str | None, dry_run: bool) -> None:
    """Publish the web archive: a page per edition and language (for everyone: no audience
    blocks, no personal links), an index and an Atom feed per language, the editions'
    processed images and calendar files. Only what changed is written or uploaded.

    Without EDITION, every edition already on the site and every edition dated today or
    earlier is published; name an edition to publish it before its date.

    \b
    Examples:
      newsletter publish 2026-12                      # into site/ (or publish.target)
      newsletter publish 2026-12 --to s3://news-bucket/newsletter
      newsletter publish --dry-run                    # what would change
    """
    from newsletter.publish.publisher import publish as run_publish

    ws = ctx.ws
    verb = "would write" if dry_run else "wrote"
    result = run_publish(ws, list(editions), to, dry_run=dry_run,
                         progress=lambda path: click.echo(f"  {verb} {path}"))
    site, report = result.site, result.report
    where = display_path(str(result.target), ws.root, Path.cwd()) if "://" not in str(result.target) else str(result.target)
    click.echo(f"{len(site.editions)} edition(s) in {', '.join(site.languages)}: {len(report.written)} file(s) "
               f"{'to write' if dry_run else 'written'}, {report.unchanged} unchanged, in {where}")
    if dry_run:
        click.echo("Dry run: nothing was written.")
        return
    if "://" in str(result.target):
        click.echo(f"Online at {ws.settings.urls.archive.rstrip('/')}/ (once the bucket serves that address)")
    else:
        click.echo(f"Open {where}/index.html in a browser, or upload {where}/ to {ws.settings.urls.archive}")


COMMANDS = [publish]

"""newsletter build"""
from __future__ import annotations

from pathlib import Path

import click

from newsletter.commands._context import Context, pass_ctx
from newsletter.core.errors import LintErrors


@click.command()
@click.argument("edition")
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write to (default: build/EDITION/ in the workspace).")
@click.option("--asset-base-url", metavar="URL",
              help="Where the edition's images will be published (default: the web archive, "
                   "urls.archive/EDITION/).")
@pass_ctx
def build(ctx: Context, edition: str, out_dir: Path | None, asset_base_url: str | None) -> None:
    """Render every variant of EDITION (each language, with and without each audience's
    blocks) to email.html, email.txt and email.mjml, plus a manifest.json and the images.

    The same edition always gives the same bytes. Exit code 1 when a lint finds an error
    (the files are written all the same, to look at).
    """
    from newsletter.publish.build import build_edition

    result = build_edition(ctx.ws, edition, out_dir, asset_base_url=asset_base_url)
    for variant in result.manifest["variants"]:
        sizes = variant["sizes"]
        click.echo(f"  {variant['key']:<24} html {sizes['html'] / 1024:6.1f} KB   text {sizes['text'] / 1024:5.1f} KB")
    for finding in result.findings:
        click.secho(f"{finding}", fg="red" if finding.level == "error" else "yellow", err=finding.level == "error")
    where = ctx.shown(result.out_dir)
    click.echo(f"Wrote {len(result.manifest['variants'])} variant(s) of {result.manifest['edition']} to {where}/")
    if result.errors:
        raise LintErrors(f"{result.errors} lint error(s); see above")


COMMANDS = [build]

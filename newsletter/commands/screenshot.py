"""newsletter screenshot"""
from __future__ import annotations

from pathlib import Path

import click

from newsletter.commands._context import Context, pass_ctx


def _widths(_ctx: click.Context, _param: click.Parameter, value: str) -> list[int]:
    try:
        widths = [int(w) for w in value.replace(" ", "").split(",") if w]
    except ValueError:
        raise click.BadParameter(f"expected widths in pixels like 375,600, got {value!r}") from None
    if not widths or any(not 200 <= w <= 2400 for w in widths):
        raise click.BadParameter(f"expected widths between 200 and 2400 pixels, got {value!r}")
    return widths


@click.command()
@click.argument("edition")
@click.option("--lang", "languages", multiple=True, metavar="L",
              help="Only this language (repeat, or give several separated by commas). Default: all.")
@click.option("--width", "widths", default="600,375", show_default=True, callback=_widths,
              help="Widths in pixels, separated by commas.")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the PNG files. Default: build/screenshots/EDITION.")
@pass_ctx
def screenshot(ctx: Context, edition: str, languages: tuple[str, ...], widths: list[int], output: Path | None) -> None:
    """Save PNG screenshots of every variant of EDITION (each language, and each segment
    with blocks of its own) at each width, for people who sign off without running the tool.

    Uses the Chromium installed on this computer (Debian/Ubuntu: sudo apt install chromium);
    nothing is downloaded and images from the web are left blank.
    """
    from newsletter.content.loader import resolve_name

    from newsletter.preview.screenshots import take

    ws = ctx.ws
    name = resolve_name(ws, edition)
    out = output or ws.build_dir / "screenshots" / name
    langs = [code for item in languages for code in item.split(",") if code] or None
    for path in take(ws.root, name, langs, widths, out):
        click.echo(f"Wrote {ctx.shown(path)}")


COMMANDS = [screenshot]

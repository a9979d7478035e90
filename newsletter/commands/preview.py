"""newsletter preview"""
from __future__ import annotations

import webbrowser

import click

from newsletter.commands._context import Context, pass_ctx


@click.command()
@click.argument("edition", required=False)
@click.option("--port", type=click.IntRange(0, 65535), default=8025, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Keep the default unless others on your network should see it.")
@click.option("--open/--no-open", "open_browser", default=True, show_default=True,
              help="Open the preview in your web browser.")
@pass_ctx
def preview(ctx: Context, edition: str | None, port: int, host: str, open_browser: bool) -> None:
    """Show editions in your browser while you write; every save updates the page.

    Choose the language, the segment (which audience blocks are shown), a sample subscriber
    for the merge fields, the width (desktop, 375 px, 320 px) and dark mode. Besides the
    email: its plain text, MJML and HTML source, and the results of `newsletter check`.
    A mistake in a file shows in the page with its file and line until you fix it.
    Stop with Ctrl-C.
    """
    from newsletter.preview import PreviewServer, edition_path, workspace_root
    from newsletter.preview.server import is_loopback

    # Not ctx.ws: a broken newsletter.yaml must not stop the preview, which shows the error.
    root = workspace_root(ctx.workspace_dir)
    path = edition_path(root, edition)  # a wrong name is the error, not a port that is taken
    server = PreviewServer(root, host, port).start()
    url = server.url + path
    if not is_loopback(host):
        click.secho(f"Warning: listening on {host}: other machines on your network can open this preview.",
                    fg="yellow", err=True)
    click.echo(f"Preview of {root} at {url}")
    click.echo("Watching issues/, templates/, newsletter.yaml and subscribers/segments.yaml. Stop with Ctrl-C.")
    if open_browser:
        webbrowser.open(url)
    try:
        server.wait()
    except KeyboardInterrupt:
        click.echo("Stopping the preview.")
    finally:
        server.stop()


COMMANDS = [preview]

"""newsletter serve"""
from __future__ import annotations

import click

from newsletter.commands._context import Context, pass_ctx

# Other rooms' routes, named so that web imports no room (web.server.extra_routes).
FEEDBACK_ROUTES = ["newsletter.feedback.webhooks:routes"]


@click.command()
@click.option("--host", help="Address to listen on (default: web.host in newsletter.yaml, 127.0.0.1). "
                             "Keep it on 127.0.0.1 behind a reverse proxy that does TLS.")
@click.option("--port", type=click.IntRange(0, 65535), help="Port (default: web.port, 8080; 0: any free port).")
@click.option("--workers", type=click.IntRange(1, 64), help="Worker processes (default: web.workers, 1).")
@click.option("--print-form", is_flag=True,
              help="Print the sign-up form as an HTML snippet for the organisation's website, and exit.")
@click.option("--lang", "language", metavar="CODE", help="Language of the printed form (default: the default language).")
@pass_ctx
def serve(ctx: Context, host: str | None, port: int | None, workers: int | None, print_form: bool,
          language: str | None) -> None:
    """Serve the readers' pages: one-click unsubscribe (RFC 8058), the unsubscribe and
    preferences pages, and sign-up with double opt-in.

    Share the workspace's database with `newsletter send` (one server). See docs/deploy.md
    for the systemd unit, the reverse proxy with TLS and what urls: must point to.

    \b
    Examples:
      newsletter serve                       # http://127.0.0.1:8080
      newsletter serve --port 9000 --workers 2
      newsletter serve --print-form --lang de > signup-form.html
    """
    ws = ctx.ws
    from newsletter.web.forms import print_form as render_form
    if print_form:
        click.echo(render_form(ws, language), nl=False)
        return
    from newsletter.web.pages import Paths
    from newsletter.web.server import serve as run

    web = ws.settings.web
    host, port, workers = host or web.host, web.port if port is None else port, workers or web.workers
    paths = Paths.from_workspace(ws)
    click.echo(f"Serving the readers' pages of {ws.root} on http://{host}:{port} "
               f"({workers} worker{'s' if workers > 1 else ''}).")
    click.echo(f"  unsubscribe {paths.unsubscribe}  preferences {paths.preferences}  sign-up {paths.signup}  "
               f"confirm {paths.confirm}  health /healthz")
    click.echo("  mail service webhooks (docs/feedback.md): /feedback/ses /feedback/postmark "
               "/feedback/mailgun /feedback/sendgrid")
    click.echo("Stop with Ctrl-C.")
    run(ws, host, port, workers, routes=FEEDBACK_ROUTES)


COMMANDS = [serve]

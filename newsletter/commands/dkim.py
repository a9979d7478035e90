"""newsletter dkim keygen --selector S [--algorithm rsa|ed25519] [--domain D] [--force]"""
from __future__ import annotations

import re
from pathlib import Path

import click

from newsletter.commands._context import Context, pass_ctx


@click.group()
def dkim() -> None:
    """DKIM signing keys: every message the composer builds is signed when newsletter.yaml has
    a dkim section (see docs/delivery.md)."""


@dkim.command()
@click.option("--selector", "-s", required=True,
              help="A name for this key, e.g. the month it was made (news2026); the DNS record "
                   "goes under <selector>._domainkey.<domain>.")
@click.option("--algorithm", "-a", type=click.Choice(["rsa", "ed25519"]), default="rsa", show_default=True,
              help="rsa (RSA-2048) is understood by every receiver; ed25519 (RFC 8463) is short "
                   "but not yet checked by all, so use it beside an RSA key, not instead.")
@click.option("--domain", "-d", help="The signing domain (default: dkim.domain, else the From address's domain).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the key (default: dkim.key_file, else dkim/<selector>.key in the workspace).")
@click.option("--force", is_flag=True, help="Replace an existing key file.")
@pass_ctx
def keygen(ctx: Context, selector: str, algorithm: str, domain: str | None, output: Path | None,
           force: bool) -> None:
    """Make a signing key, write it readable by you only (mode 0600) and print the DNS TXT
    record to publish.

    \b
    Examples:
      newsletter dkim keygen --selector news2026
      newsletter dkim keygen --selector ed2026 --algorithm ed25519
    """
    from newsletter.compose import dkim as signing

    ws = ctx.ws
    settings = ws.settings
    configured = settings.dkim if settings.dkim and settings.dkim.selector == selector else None
    path = output or (ws.dkim_key_file if configured else ws.root / "dkim" / f"{selector}.key")
    domain = domain or (settings.dkim.domain if settings.dkim else None) \
        or settings.sender.from_address.rpartition("@")[2]
    domain = signing.checked_domain(domain)
    if not re.fullmatch(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*", selector):
        raise click.BadParameter("expected letters, digits, '-' and '_' (dots between parts)",
                                 param_hint="--selector")
    key = signing.generate_key(algorithm)
    signing.write_key(key, path, overwrite=force)
    signer = signing.DkimSigner(key, domain, selector)
    shown = ctx.shown(path)
    click.echo(f"Wrote {shown} ({'RSA-2048' if algorithm == 'rsa' else 'Ed25519'}, readable by you only). "
               "Keep it secret: never commit it or send it by e-mail.\n")
    click.echo("Publish this TXT record at your DNS provider:\n")
    click.echo(f"  name:  {signer.dns_name()}")
    click.echo(f"  value: {signer.dns_record()}\n")
    click.echo("As a zone-file line:\n")
    click.echo(f"  {signing.zone_line(signer.dns_name(), signer.dns_record())}\n")
    if not configured:
        click.echo("Then sign with it: add to newsletter.yaml\n")
        click.echo(f"  dkim:\n    selector: {selector}")
        if domain != settings.sender.from_address.rpartition("@")[2]:
            click.echo(f"    domain: {domain}")
        if output:
            click.echo(f"    key_file: {shown}")
        click.echo("")
    click.echo("`newsletter doctor` checks that the published record matches the key.")


COMMANDS = [dkim]

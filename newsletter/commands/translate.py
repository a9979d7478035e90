"""newsletter translate export|import|status"""
from __future__ import annotations

from pathlib import Path

import click

from newsletter.commands._context import Context, pass_ctx


@click.group()
def translate() -> None:
    """Exchange an edition's texts with translators as XLIFF or PO files.

    \b
    Examples:
      newsletter translate export 2026-12                 one .xlf file per language to translate
      newsletter translate export 2026-12 --lang de --format po -o for-translators/
      newsletter translate import for-translators/2026-12.de.po
      newsletter translate status 2026-12                 what is missing or stale, per language

    Translations are written to issues/EDITION/translations/LANG.yaml; edition.yaml itself is
    never rewritten. See docs/translation.md.
    """


@translate.command("export")
@click.argument("edition")
@click.option("--lang", "languages", multiple=True, metavar="LANG",
              help="A language to export (repeatable; default: every language but the source one).")
@click.option("--format", "fmt", type=click.Choice(["xliff", "po"]), default="xliff", show_default=True,
              help="XLIFF 1.2 (.xlf: OmegaT, Poedit, Virtaal, memoQ, Trados) or gettext PO (.po: Poedit, Weblate).")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Folder to write the files into.")
@pass_ctx
def export_cmd(ctx: Context, edition: str, languages: tuple[str, ...], fmt: str, output: Path) -> None:
    """Write one file per language with every text of EDITION, its translation if any, and a
    note saying where it appears; stale translations are marked for review."""
    from newsletter.translate.exchange import export

    for path in export(ctx.ws, edition, list(languages) or None, fmt, output):  # type: ignore[arg-type]
        click.echo(f"Wrote {path}")


@translate.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_ctx
def import_cmd(ctx: Context, file: Path) -> None:
    """Take the translations in FILE (.xlf or .po) into its edition, checked as `newsletter
    check` does; if anything is wrong nothing changes and each error names FILE's line."""
    from newsletter.translate.exchange import import_file

    report = import_file(ctx.ws, file)
    where = report.file.relative_to(ctx.ws.root)
    if report.changed:
        click.echo(f"{report.edition} {report.language}: {report.imported} translation(s) written to {where}")
    else:
        click.echo(f"{report.edition} {report.language}: nothing changed ({where} already holds these translations)")
    if report.skipped_fuzzy:
        click.echo(f"  {report.skipped_fuzzy} marked for review (fuzzy) were not taken: confirm them in your "
                   "translation tool and import again")
    if report.empty:
        click.echo(f"  {report.empty} not translated yet (the {report.language} edition shows the source text there)")


@translate.command("status")
@click.argument("edition")
@pass_ctx
def status_cmd(ctx: Context, edition: str) -> None:
    """Per language: how many texts are translated, stale, of unknown state, or missing, and
    whether the language is approved."""
    from newsletter.content.approvals import language_states
    from newsletter.content.loader import load_edition
    from newsletter.translate.exchange import all_units

    loaded = load_edition(ctx.ws, edition)
    states = language_states(loaded)
    click.echo(f"{loaded.name} (source language {loaded.default_language}): "
               f"{states[loaded.default_language].describe()}")
    for lang, found in all_units(loaded):
        counts = {k: sum(1 for u in found if u.state == k) for k in ("current", "unknown", "stale", "missing")}
        click.echo(f"  {lang}: {len(found)} texts - {counts['current']} translated, {counts['unknown']} translated "
                   f"before fingerprints (state unknown), {counts['stale']} stale, {counts['missing']} missing; "
                   f"{states[lang].describe()}")
        for unit in found:
            if unit.state == "stale":
                click.echo(f"      stale: {unit.field}")


COMMANDS = [translate]

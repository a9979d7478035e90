"""newsletter subscribers import | export | add | edit | show | unsubscribe | resubscribe"""
from __future__ import annotations

import io
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, TextIO

import click

from newsletter.commands._context import Context, pass_ctx
from newsletter.core.errors import RowsRejected, SubscriberError
from newsletter.core.files import atomic_write
from newsletter.subscribers import editing
from newsletter.subscribers.exporters import EXPORT_FORMATS, excel_delimiter, export
from newsletter.subscribers.importers import FORMATS, import_file, input_size
from newsletter.subscribers.importing import ImportOptions, ImportSummary, check_attributes, subscriber_from
from newsletter.subscribers.models import STATUSES, InvalidValue, Subscriber, normalise_tags
from newsletter.subscribers.store import Store

PROGRESS_MIN_BYTES = 2_000_000  # about 10,000 rows: below that an import takes under a second


@click.group()
def subscribers() -> None:
    """Import, export and look after the subscriber list (subscribers/newsletter.sqlite3)."""


@subscribers.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="auto", show_default=True,
              help="File format; auto tells Mailchimp (ZIP or CSV), listmonk, plain CSV and JSON Lines apart.")
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="Add this tag to everyone imported (repeatable).")
@click.option("--status", type=click.Choice(STATUSES),
              help="Status for rows that give none (default: subscribed; you vouch for their consent).")
@click.option("--strict", is_flag=True, help="Write nothing if any row is bad.")
@click.option("--map-column", "maps", multiple=True, metavar="FROM=TO",
              help='Read column FROM as TO, e.g. "Mail privat=email" or "Ort=attributes.city" '
                   '(repeatable; FROM must be a column of the file).')
@click.option("--encoding", default="utf-8", show_default=True, help="Text encoding of a CSV file, e.g. cp1252.")
@pass_ctx
def import_(ctx: Context, file: Path, fmt: str, tags: tuple[str, ...], status: str | None, strict: bool,
            maps: tuple[str, ...], encoding: str) -> None:
    """Import subscribers from FILE; ends with a summary of what happened to each row.

    Rows already in the list are merged (tags and attributes are added). Nobody who
    unsubscribed, bounced or was blocklisted is ever subscribed again by an import.

    Column names in English, German, Spanish, French, Italian, Portuguese and Dutch are
    understood (E-Mail, Vorname, correo, prénom, cognome, voornaam, ...), and so are language
    and country names (Deutsch, Alemania). Other columns are kept as attributes; the import
    lists them, with the field each one resembles.

    \b
    Examples:
      newsletter subscribers import audience_export.zip
      newsletter subscribers import mitglieder.csv --tag stuttgart
      newsletter subscribers import list.csv --map-column "Mail privat=email" --strict
    """
    known = frozenset(ctx.ws.settings.merge_attributes)
    options = ImportOptions(tags=_tags(tags), status=status, strict=strict, known_attributes=known)
    with Store.open(ctx.ws) as store, _progress(file) as progress:
        summary = import_file(store, file, fmt=fmt, options=options, column_map=_maps(maps),
                              encoding=encoding, progress=progress)
    _report(summary)


def _tags(tags: tuple[str, ...]) -> list[str]:
    try:
        return normalise_tags(list(tags))
    except InvalidValue as exc:
        raise click.BadParameter(exc.reason, param_hint="--tag") from None


def _maps(maps: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in maps:
        source, sep, target = item.partition("=")
        if not sep or not source.strip() or not target.strip():
            raise click.BadParameter(f"expected FROM=TO, got {item!r}", param_hint="--map-column")
        out[source.strip()] = target.strip()
    return out


@contextmanager
def _progress(file: Path) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on standard error for files large enough to take a while."""
    if input_size(file) < PROGRESS_MIN_BYTES:
        yield None
        return
    with click.progressbar(length=input_size(file), label="Importing", file=sys.stderr) as bar:
        yield bar.update


def _report(summary: ImportSummary) -> None:
    for note in summary.notes:
        click.secho(note, fg="yellow", err=True)
    for error in summary.errors:
        click.secho(str(error), fg="yellow", err=True)
    hidden = summary.rejected - len(summary.errors)
    if hidden > 0:
        click.echo(f"... and {hidden} more rejected rows", err=True)
    prefix = "" if summary.written else "Nothing written (--strict). Would have: "
    click.echo(prefix + summary.line())
    if summary.rejected:
        tail = "nothing was written (--strict)" if not summary.written else "the other rows were imported"
        raise RowsRejected(f"{summary.rejected} row(s) rejected; {tail}")


@subscribers.command("export", epilog="""\b
Examples:
  newsletter subscribers export -o everyone.csv
  newsletter subscribers export --excel -o everyone.csv       # open it in Excel
  newsletter subscribers export --excel --delimiter , -o everyone.csv
  newsletter subscribers export --format jsonl -o backup.jsonl""")
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="csv", show_default=True)
@click.option("--segment", metavar="NAME",
              help="Only this segment's subscribed members (default: everyone, any status).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to FILE (default: standard output).")
@click.option("--excel", is_flag=True,
              help="A csv that Excel opens correctly: UTF-8 with a byte-order mark, the delimiter of the "
                   "workspace's language, formulas kept as text. Imports back without loss.")
@click.option("--delimiter", metavar="CHAR",
              help="Cell delimiter of csv and listmonk: , or ; or tab. Default: ',', or with --excel ';' "
                   "when the workspace's default language is de, fr, es, it, pt or nl.")
@pass_ctx
def export_(ctx: Context, fmt: str, segment: str | None, output: Path | None, excel: bool,
            delimiter: str | None) -> None:
    """Export subscribers; every format imports back without loss."""
    if excel and fmt != "csv":
        raise click.BadParameter(f"--excel writes the csv format, not {fmt}", param_hint="--excel")
    if delimiter is not None and fmt == "jsonl":
        raise click.BadParameter("jsonl has no delimiter", param_hint="--delimiter")
    language = ctx.ws.settings.languages.default
    delimiter = _delimiter(delimiter) if delimiter is not None else excel_delimiter(language) if excel else ","
    with Store.open(ctx.ws) as store:
        if segment:
            store.segment(segment)  # an unknown name fails before anything is written
        if output is None:
            with _stdout(excel) as out:
                count = export(store, out, fmt, segment, delimiter=delimiter, excel=excel)
        else:
            output.parent.mkdir(parents=True, exist_ok=True)
            with atomic_write(output, text=True) as fh:
                if excel:
                    fh.write(BOM)
                count = export(store, fh, fmt, segment, delimiter=delimiter, excel=excel)
    where = output if output else "standard output"
    click.echo(f"Exported {count} subscriber(s) to {where}", err=True)


BOM = "\ufeff"  # how Excel tells a UTF-8 CSV from one in the computer's old code page
DELIMITERS = {",": ",", ";": ";", "tab": "\t", "\\t": "\t", "\t": "\t", "|": "|"}


def _delimiter(value: str) -> str:
    found = DELIMITERS.get(value.strip().lower() if value.strip() else value)
    if found is None:
        raise click.BadParameter(f"expected , or ; or tab or |, got {value!r}", param_hint="--delimiter")
    return found


@contextmanager
def _stdout(excel: bool) -> Iterator[TextIO]:
    """Standard output; for Excel as UTF-8 with a byte-order mark, whatever the terminal's encoding."""
    if not excel:
        yield sys.stdout
        return
    sys.stdout.flush()
    out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="")
    try:
        out.write(BOM)
        yield out
    finally:
        out.flush()
        out.detach()  # standard output stays open


@subscribers.command()
@click.argument("email")
@click.option("--name")
@click.option("--first-name")
@click.option("--last-name")
@click.option("--language", help="Language code or name, e.g. en, de, es, Deutsch.")
@click.option("--country", help="Two-letter country code or country name, e.g. DE, Deutschland.")
@click.option("--tag", "tags", multiple=True, help="Repeatable.")
@click.option("--attribute", "attributes", multiple=True, metavar="NAME=VALUE", help="Repeatable.")
@click.option("--status", type=click.Choice(STATUSES), default="subscribed", show_default=True)
@click.option("--consent-source", default="added with 'newsletter subscribers add'", show_default=True)
@click.option("--consent-method", default="editor-vouched", show_default=True,
              help="How consent was given, e.g. double-opt-in, form, in-person, editor-vouched.")
@click.option("--consent-ip", help="IP address consent came from, if known.")
@pass_ctx
def add(ctx: Context, email: str, name: str | None, first_name: str | None, last_name: str | None,
        language: str | None, country: str | None, tags: tuple[str, ...], attributes: tuple[str, ...],
        status: str, consent_source: str, consent_method: str, consent_ip: str | None) -> None:
    """Add one subscriber with a consent record."""
    with Store.open(ctx.ws) as store:
        consent = {"source": consent_source, "method": consent_method, "time": store.now(), "ip": consent_ip}
        values = {"email": email, "name": name, "first_name": first_name, "last_name": last_name,
                  "language": language, "country": country, "tags": list(tags), "status": status,
                  "attributes": _attributes(attributes), "consent": consent}
        try:
            check_attributes(values["attributes"])
            sub = subscriber_from(values, ImportOptions(), {})
        except InvalidValue as exc:
            raise SubscriberError(str(exc)) from None
        sub = store.add(sub)
    click.echo(f"Added {sub.email} (id {sub.id}, {sub.status})")


def _attributes(items: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint="--attribute")
        out[key.strip()] = value
    return out


@subscribers.command(epilog="""\b
Examples:
  newsletter subscribers edit ana@example.org --set language=es --set country=AR
  newsletter subscribers edit ana@example.org --set first_name=Ana --unset Vorname
  newsletter subscribers edit ana@example.org --set centre="Centro Rosario" --unset role
  newsletter subscribers edit ana@example.org --set tags="leader, member" --dry-run""")
@click.argument("email")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
              help="Set a field (name, first_name, last_name, language, country, tags) or an attribute "
                   "(repeatable). Names as in an imported file: Vorname, attributes.NAME, NAME:json.")
@click.option("--unset", "unsets", multiple=True, metavar="NAME",
              help="Remove an attribute, or empty a field (repeatable). An attribute the person has is "
                   "found by its own name, e.g. a column an old import kept by mistake.")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@pass_ctx
def edit(ctx: Context, email: str, sets: tuple[str, ...], unsets: tuple[str, ...], dry_run: bool) -> None:
    """Change one subscriber's fields and attributes.

    Values are checked as an import checks them (a language code or name, a two-letter
    country code or a country's name, names without control characters). The change is
    recorded in the subscriber's history (`subscribers show`). Status has its own commands:
    unsubscribe and resubscribe.
    """
    if not sets and not unsets:
        raise click.UsageError("nothing to change: give --set NAME=VALUE or --unset NAME")
    pairs = [_pair(item, "--set") for item in sets]
    with Store.open(ctx.ws) as store:
        try:
            before, after, changed = store.edit(email, lambda sub: editing.apply(sub, pairs, list(unsets)),
                                                source="newsletter subscribers edit", dry_run=dry_run)
        except InvalidValue as exc:
            raise SubscriberError(f"{email}: {exc}") from None
    if not changed:
        click.echo(f"{after.email}: nothing changed")
        return
    click.echo(f"{'Would change' if dry_run else 'Changed'} {after.email}:")
    for line in editing.describe(changed):
        click.echo(line)


def _pair(item: str, option: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise click.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint=option)
    return key.strip(), value


@subscribers.command()
@click.argument("email")
@pass_ctx
def show(ctx: Context, email: str) -> None:
    """Show everything known about one subscriber, their segments and history."""
    with Store.open(ctx.ws) as store:
        sub = store.require(email)
        member_of = [seg.name for seg in store.segments if seg.matches(sub)]
        events = store.events(sub.stored_id)
    from newsletter.feedback.report import subscriber_lines

    lines = describe(sub, member_of, events)
    history = len(lines) - len(events)   # the bounces and complaints go before the history
    lines[history:history] = subscriber_lines(ctx.ws.db_path, sub.stored_id)
    for line in lines:
        click.echo(line)


def describe(sub: Subscriber, member_of: list[str], events: list[dict]) -> list[str]:
    lines = [
        f"{sub.email}  (id {sub.id})",
        f"  name:       {sub.name}",
        f"  first/last: {sub.first_name} / {sub.last_name}",
        f"  status:     {sub.status}" + (f" ({sub.bounces} bounce(s))" if sub.bounces else ""),
        f"  language:   {sub.language or '-'}",
        f"  country:    {sub.country or '-'}",
        f"  tags:       {', '.join(sub.tags) or '-'}",
        f"  created:    {sub.created_at}   updated: {sub.updated_at}",
        "  attributes:" + ("" if sub.attributes else " -"),
    ]
    lines += [f"    {key}: {value}" for key, value in sorted(sub.attributes.items())]
    lines.append("  consent:" + ("" if sub.consent else " -"))
    lines += [f"    {key}: {value}" for key, value in sub.consent.items()]
    lines.append(f"  segments:   {', '.join(member_of) or '- (not subscribed, or in no segment)'}")
    lines.append("  history:" + ("" if events else " -"))
    for event in events:
        # The consent and subscription history (GDPR Art. 7(1)): what, when, from where.
        lines.append(f"    {event['at']}  {event['kind']}" + _event_detail(event))
    return lines


def _event_detail(event: dict) -> str:
    if event["kind"] == "edit":
        return ": " + ", ".join(sorted(event.get("changes", {})))
    details = ", ".join(f"{k}: {_shown(v)}" for k, v in event.items()
                        if k not in ("at", "kind") and v not in ("", None, [], {}))
    return f"  ({details})" if details else ""


def _shown(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(map(str, value)) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {v}" for k, v in value.items()) + "}"
    return str(value)


@subscribers.command()
@click.argument("email")
@click.option("--reason", default="", help="Why, for the record (e.g. 'asked by phone').")
@pass_ctx
def unsubscribe(ctx: Context, email: str, reason: str) -> None:
    """Unsubscribe one person. They are never re-subscribed by an import."""
    with Store.open(ctx.ws) as store:
        before = store.require(email)
        after = store.unsubscribe(before.email, reason, source="newsletter subscribers unsubscribe")
    if before.status == after.status:
        click.echo(f"{after.email} was already {after.status}; nothing changed")
    else:
        click.echo(f"Unsubscribed {after.email} (was {before.status})")


@subscribers.command()
@click.argument("email")
@click.option("--consent-source", required=True, help="Where the new consent came from, e.g. 'signup form 2026-11'.")
@click.option("--consent-method", required=True, help="How it was given, e.g. double-opt-in, form, written, in-person.")
@click.option("--consent-ip", help="IP address, if known.")
@click.option("--unblock", is_flag=True, help="Also lift a blocklisting.")
@pass_ctx
def resubscribe(ctx: Context, email: str, consent_source: str, consent_method: str, consent_ip: str | None,
                unblock: bool) -> None:
    """Subscribe someone again, recording their new consent (the old record is kept in the history)."""
    with Store.open(ctx.ws) as store:
        consent = {"source": consent_source, "method": consent_method, "time": store.now(), "ip": consent_ip}
        try:
            sub = store.resubscribe(email, consent, unblock=unblock)
        except InvalidValue as exc:
            raise SubscriberError(str(exc)) from None
    click.echo(f"Resubscribed {sub.email} (consent: {consent_method}, {consent_source})")


COMMANDS = [subscribers]

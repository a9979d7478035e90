"""Reading subscriber files: detect the format, stream the rows, hand them to the import engine.

Formats: a Mailchimp audience export (ZIP or one of its CSVs), a listmonk CSV, a plain CSV
and JSON Lines (our own lossless export). ``auto`` tells them apart by the file itself.
"""
from __future__ import annotations

import io
import logging
import zipfile
from pathlib import Path
from typing import IO, Callable, Iterator

from newsletter.core.errors import SourceError
from newsletter.subscribers.importing import ImportOptions, ImportSummary, RowError, run_import
from newsletter.subscribers.models import Subscriber
from newsletter.subscribers.store import Store
from newsletter.subscribers.importers import listmonk, mailchimp
from newsletter.subscribers.importers.base import CsvFormat
from newsletter.subscribers.importers.csvread import CsvInput, open_csv, text_stream
from newsletter.subscribers.importers.jsonl import Jsonl
from newsletter.subscribers.importers.listmonk import ListmonkCsv
from newsletter.subscribers.importers.mailchimp import MailchimpCsv
from newsletter.subscribers.importers.plaincsv import PlainCsv

log = logging.getLogger(__name__)

FORMATS = ("auto", "mailchimp", "listmonk", "csv", "jsonl")
Progress = Callable[[int], None]


def import_file(store: Store, path: Path | str, *, fmt: str = "auto", options: ImportOptions | None = None,
                column_map: dict[str, str] | None = None, encoding: str = "utf-8",
                progress: Progress | None = None) -> ImportSummary:
    """Import one file into ``store``; see ImportSummary for what happened to each row."""
    options = options or ImportOptions()
    options.now = options.now or store.now()
    notes: list[str] = []
    rows = read_rows(Path(path), fmt=fmt, options=options, column_map=column_map or {},
                     encoding=encoding, progress=progress, notes=notes)
    summary = run_import(store, rows, options)
    summary.notes = list(dict.fromkeys(notes))  # a ZIP's member files share their columns
    log.info("imported %s: %s", path, summary.line())
    return summary


def input_size(path: Path | str) -> int:
    """Bytes that will be read (uncompressed, for a ZIP): the progress bar's length."""
    path = Path(path)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return sum(m.size for m in mailchimp.zip_members(path, archive))
    return path.stat().st_size


def read_rows(path: Path, *, fmt: str, options: ImportOptions, column_map: dict[str, str],
              encoding: str, progress: Progress | None,
              notes: list[str] | None = None) -> Iterator[Subscriber | RowError]:
    """Every row of the file, checked. Raises SourceError for a problem with the whole file
    (unknown format, bad header) before any row is produced. What the editor should know
    about the columns (read through a synonym, kept as attributes) is added to ``notes``."""
    notes = [] if notes is None else notes
    if fmt not in FORMATS:
        raise SourceError(path, None, None, f"unknown format {fmt!r}; expected one of: {', '.join(FORMATS)}")
    if not path.is_file():
        raise SourceError(path, None, None, "no such file")
    if zipfile.is_zipfile(path):
        if fmt not in ("auto", "mailchimp"):
            raise SourceError(path, None, None, f"is a ZIP file; only Mailchimp exports come as ZIP, not {fmt}")
        return _zip_rows(path, options, column_map, encoding, progress, notes)
    raw = path.open("rb")
    try:
        reader = _open_format(text_stream(raw, encoding, progress), str(path), fmt, options, column_map)
    except BaseException:
        raw.close()
        raise
    notes += getattr(reader, "notes", [])
    return _closing(reader.rows(), raw)


def _closing(rows: Iterator[Subscriber | RowError], handle: io.IOBase) -> Iterator[Subscriber | RowError]:
    with handle:
        yield from rows


def _zip_rows(path: Path, options: ImportOptions, column_map: dict[str, str], encoding: str,
              progress: Progress | None, notes: list[str]) -> Iterator[Subscriber | RowError]:
    archive = zipfile.ZipFile(path)
    try:
        members = mailchimp.zip_members(path, archive)
        for member in members:  # check every header before the first row is written
            with archive.open(member.name) as raw:
                notes += _mailchimp_member(path, member.name, raw, options, column_map, encoding, None).notes
    except BaseException:
        archive.close()
        raise
    return _zip_stream(archive, path, members, options, column_map, encoding, progress)


def _zip_stream(archive: zipfile.ZipFile, path: Path, members: list[mailchimp.Member], options: ImportOptions,
                column_map: dict[str, str], encoding: str,
                progress: Progress | None) -> Iterator[Subscriber | RowError]:
    with archive:
        for member in members:
            with archive.open(member.name) as raw:
                yield from _mailchimp_member(path, member.name, raw, options, column_map,
                                             encoding, progress).rows()


def _mailchimp_member(path: Path, name: str, raw: IO[bytes], options: ImportOptions,
                      column_map: dict[str, str], encoding: str, progress: Progress | None) -> MailchimpCsv:
    text = text_stream(raw, encoding, progress)
    # The three files of a ZIP differ in their last columns: a mapping need not fit each.
    inp = _mapped(open_csv(text, f"{path}/{name}"), column_map, every=False)
    return MailchimpCsv(inp, options, file_name=name)


def _open_format(text: io.TextIOWrapper, label: str, fmt: str, options: ImportOptions,
                 column_map: dict[str, str]) -> CsvFormat | Jsonl:
    if fmt == "jsonl" or (fmt == "auto" and _looks_jsonl(text, label)):
        return Jsonl(text, label, options)
    inp = _mapped(open_csv(text, label), column_map)
    if fmt == "mailchimp" or (fmt == "auto" and mailchimp.looks_like(inp.header)):
        return MailchimpCsv(inp, options)
    if fmt == "listmonk" or (fmt == "auto" and listmonk.looks_like(inp.header)):
        return ListmonkCsv(inp, options)
    if fmt == "auto" and not any(_is_email_column(h) for h in inp.header):
        raise SourceError(label, inp.header_line, None,
                          f"cannot tell the format: the header has {', '.join(inp.header)}; expected an "
                          "'email' column (plain CSV), 'Email Address' (Mailchimp) or email,name,attributes "
                          "(listmonk); rename a column or use --map-column")
    return PlainCsv(inp, options)


def _is_email_column(column: str) -> bool:
    from newsletter.subscribers.importers.plaincsv import column_plan

    return column_plan(column)[:2] == ("field", "email")


def _looks_jsonl(text: io.TextIOWrapper, label: str) -> bool:
    if label.lower().endswith((".jsonl", ".ndjson")):
        return True
    head = text.buffer.peek(256)[:256]  # type: ignore[attr-defined]
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")


def _mapped(inp: CsvInput, column_map: dict[str, str], every: bool = True) -> CsvInput:
    """Rename header columns (``--map-column "E-Mail-Adresse=Email Address"``). With ``every``,
    a mapping for a column the file does not have is an error (a typo would else go unnoticed)."""
    if not column_map:
        return inp
    lower = {k.strip().lower(): v.strip() for k, v in column_map.items()}
    present = {h.lower() for h in inp.header}
    missing = [k for k in column_map if k.strip().lower() not in present]
    if every and missing:
        raise SourceError(inp.label, inp.header_line, None,
                          f"--map-column {missing[0]!r}: the file has no such column; its columns are: "
                          f"{', '.join(inp.header)}")
    inp.header = [lower.get(h.lower(), h) for h in inp.header]
    return inp


__all__ = ["FORMATS", "import_file", "input_size", "read_rows"]

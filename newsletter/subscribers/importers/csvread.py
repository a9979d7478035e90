"""Streaming CSV input: byte-counted for the progress bar, line-numbered for error messages.

Handles what real exports contain: a UTF-8 byte-order mark, CRLF or LF line ends, quoted
newlines inside cells, a last row without a newline, blank lines, and ``;`` or tab as the
delimiter (spreadsheets in many European locales save with ``;``).
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from itertools import chain
from typing import IO, Any, Callable, Iterator, TypeVar

from newsletter.core.errors import SourceError

MAX_FIELD = 1_000_000
# Undecodable bytes are kept as lone surrogates (errors='surrogateescape') so that one bad
# row is refused with its line number instead of the whole file stopping at it.
BAD_BYTES = re.compile("[\udc80-\udcff]")
Progress = Callable[[int], None]
T = TypeVar("T")

csv.field_size_limit(MAX_FIELD)


class CountingReader(io.RawIOBase):
    """Wraps a binary file and reports every chunk read (for the progress bar)."""

    def __init__(self, raw: IO[bytes], progress: Progress | None):
        super().__init__()
        self._raw = raw
        self._progress = progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        if self._progress is not None and n:
            self._progress(n)
        return n


def text_stream(raw: IO[bytes], encoding: str, progress: Progress | None = None) -> io.TextIOWrapper:
    buffered = io.BufferedReader(CountingReader(raw, progress), buffer_size=1 << 16)
    if encoding.replace("_", "-").lower() in ("utf-8", "utf8"):
        encoding = "utf-8-sig"  # a byte-order mark is not part of the first column's name
    return io.TextIOWrapper(buffered, encoding=encoding, errors="surrogateescape", newline="")


@dataclass
class CsvInput:
    """A CSV file opened for reading: its header and then its records with line numbers."""

    label: str
    header: list[str]
    header_line: int
    _reader: Any  # csv.reader's type is not public
    _offset: int  # blank lines before the header, which the csv reader did not count

    def records(self) -> Iterator[tuple[int, list[str]]]:
        """(first line of the record, cells); blank lines skipped."""
        return self.each(lambda line, cells: (line, cells))

    def each(self, handle: Callable[[int, list[str]], T]) -> Iterator[T]:
        """``handle(first line of the record, cells)`` for every record; blank lines skipped.
        (One generator for the whole file: this loop runs once per row of a large import.)"""
        reader, offset = self._reader, self._offset
        previous = offset + reader.line_num
        try:
            for cells in reader:
                line, previous = previous + 1, offset + reader.line_num
                if cells and any(cells):
                    yield handle(line, cells)
        except csv.Error as exc:
            line = self._offset + reader.line_num
            raise SourceError(self.label, line, None, f"cannot read the CSV here: {exc}") from None


def open_csv(text: io.TextIOWrapper, label: str) -> CsvInput:
    """Read the header (the first non-blank record) and pick the delimiter from it."""
    first = text.readline()
    skipped = 0
    while first and not first.strip():
        skipped += 1
        first = text.readline()
    if not first:
        raise SourceError(label, None, None, "the file is empty; expected a header line with column names")
    reader = csv.reader(chain([first], text), delimiter=_delimiter(first), strict=False)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise SourceError(label, skipped + 1, None, f"cannot read the header: {exc}") from None
    if BAD_BYTES.search("".join(header)):
        raise SourceError(label, skipped + 1, None, "the header is not valid text in the chosen encoding; "
                          "save the file as UTF-8 or pass --encoding")
    return CsvInput(label, [h.strip() for h in header], skipped + 1, reader, skipped)


def _delimiter(line: str) -> str:
    outside = re.sub(r'"[^"]*"', "", line)
    counts = {d: outside.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def check_header(label: str, line: int, header: list[str]) -> None:
    """Every column needs a name, and no name twice: otherwise a value would be lost."""
    seen: dict[str, int] = {}
    for i, name in enumerate(header, start=1):
        if not name:
            raise SourceError(label, line, None, f"column {i} has no name in the header; name it or delete it")
        key = name.lower()
        if key in seen:
            raise SourceError(label, line, None, f"column {name!r} appears twice (columns {seen[key]} and {i})")
        seen[key] = i


def undecodable(cells: list[str]) -> str | None:
    """A reason if a record holds bytes the encoding could not read, or a NUL character."""
    joined = "\x1f".join(cells)
    match = None if joined.isascii() else BAD_BYTES.search(joined)
    if match is not None:
        byte = ord(match.group()) - 0xDC00
        return (f"holds the byte 0x{byte:02X}, which is not valid in the chosen encoding; "
                "save the file as UTF-8 or pass --encoding (e.g. cp1252)")
    if "\x00" in joined:
        return "holds a NUL character; the file may be damaged or not a text file"
    return None

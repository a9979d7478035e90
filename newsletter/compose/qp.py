"""Quoted-printable bodies encoded once per variant around the merge placeholders.

Quoted-printable allows a soft line break (``=`` CRLF) anywhere, so each static piece of a part
is encoded once (with the C ``binascii.b2a_qp``), each recipient's values are encoded on their
own, and the pieces are joined with soft breaks, which decode to nothing.
"""
from __future__ import annotations

import binascii
import re
from typing import Callable, Mapping

from newsletter.content.merge import token_re

QP_LINE = 76             # RFC 2045 quoted-printable line length, CRLF not counted


def _qp(text: str) -> bytes:
    """Quoted-printable, CRLF line ends, and no line starting with "." (see MessageBytes). ``text``
    has only LF line ends: b2a_qp picks its line end from the first one it sees, so it is
    given LF and the result converted."""
    return _dot_free(binascii.b2a_qp(text.encode("utf-8"), istext=True).replace(b"\n", b"\r\n"))


def _dot_free(encoded: bytes) -> bytes:
    """Quoted-printable text with a "." that starts a line written as "=2E": the same text
    once decoded, and nothing for SMTP's dot-stuffing to do."""
    if encoded.startswith(b"."):
        encoded = b"=2E" + encoded[1:]
    return encoded.replace(b"\n.", b"\n=2E")


class MessageBytes(bytes):
    """A composed message, in which no line starts with ".": header lines start with a name
    or a space, MIME lines with "--", and the quoted-printable bodies write such a "." as
    "=2E". So SMTP's dot-stuffing (RFC 5321 4.5.2), which otherwise scans every message
    (about 90 microseconds for 75 KB, a tenth of the sender's time), can pass it as it is."""

    needs_dot_stuffing = False


_SOFT_BREAK = b"=\r\n"
# An encoded piece with the length of its first line (-1: it has no line end) and its last line.
Piece = tuple[bytes, int, int]


class Body:
    """One part's text, encoded ahead of time except where the placeholders are."""

    def __init__(self, text: str, placeholders: re.Pattern[str] = token_re()):
        pieces = placeholders.split(text.replace("\r\n", "\n").replace("\r", "\n"))
        self.statics = [piece(_fit_lines(_qp(p))) for p in pieces[0::2]]
        self.static_ends_line = [p.endswith("\n") for p in pieces[0::2]]
        self.slots = [int(i) for i in pieces[1::2]]
        self._relaxed: list[bytes] | None = None   # the statics in canonical form, when signing
        self._relaxed_safe = not any(s[0].endswith(_WSP) for s in self.statics)

    def encode(self, values: Mapping[int, Piece]) -> bytes:
        """Join the pieces; a soft line break goes wherever a line would pass 76 characters."""
        return b"".join(self._join(values))

    def encode_relaxed(self, values: Mapping[int, Piece],
                       canonical: Callable[[bytes], bytes]) -> tuple[bytes, bytes | None]:
        """The encoded part and its form under ``canonical``, a canonicalisation that works
        piece by piece (DKIM's relaxed body without its end rule, ``dkim.relaxed_lines``):
        the static pieces' forms are made once, per message only the values'. The second is
        None when a piece ends with a space or tab, where the pieces' forms joined could
        differ from the whole's (``b2a_qp`` writes such a space "=20", so this is a guard)."""
        if self._relaxed is None:   # once (threads that race here make the same list)
            self._relaxed = [canonical(s[0]) for s in self.statics]
        relaxed: list[bytes] = []
        encoded = b"".join(self._join(values, relaxed, canonical))
        if not self._relaxed_safe or any(values[slot][0].endswith(_WSP) for slot in self.slots):
            return encoded, None
        return encoded, b"".join(relaxed)

    def _join(self, values: Mapping[int, Piece], relaxed: list[bytes] | None = None,
              canonical: Callable[[bytes], bytes] | None = None) -> list[bytes]:
        """The encoded pieces in order. A line left open after a piece keeps room for the "="
        of a later soft break. With ``relaxed``, the same in canonical form goes there too."""
        out = [self.statics[0][0]]
        column = self.statics[0][2]
        ends_line = self.static_ends_line[0]
        if relaxed is not None:
            relaxed.append(self._relaxed[0])
        for number, slot in enumerate(self.slots, start=1):
            value, static = values[slot], self.statics[number]
            for data, first, last in (value, static):
                if not data:
                    continue
                if first < 0:
                    soft_break = column + len(data) > QP_LINE - 1
                    column = len(data) if soft_break else column + len(data)
                else:
                    soft_break = column + first > QP_LINE
                    column = last
                if soft_break:
                    out.append(_SOFT_BREAK)
                out.append(data)
                if relaxed is not None:
                    if soft_break:
                        relaxed.append(_SOFT_BREAK)
                    # (a value that is the static's very object has its content: same form)
                    relaxed.append(self._relaxed[number] if data is static[0] else canonical(data))
            # Values are single-line: the text ends a line only if the last non-empty piece does.
            ends_line = self.static_ends_line[number] if static[0] else (ends_line and not value[0])
        if not ends_line:
            out.append(b"\r\n")   # like EmailMessage.set_content, every part ends with a line end
            if relaxed is not None:
                relaxed.append(b"\r\n")
        return out


_WSP = (b" ", b"\t")


def piece(encoded: bytes) -> Piece:
    return encoded, encoded.find(b"\r\n"), _last_line(encoded)


def _last_line(encoded: bytes) -> int:
    return len(encoded) - encoded.rfind(b"\n") - 1


def _fit_lines(encoded: bytes) -> bytes:
    """Every line at most 76 characters, the last at most 75 so that joining can still add the
    "=" of a soft break after it. b2a_qp can give 76 on a last line and, when it encodes a space
    before a line end as "=20", 77 (a CPython bug); such lines are split with soft breaks."""
    lines = encoded.split(b"\r\n")
    if len(lines[-1]) < QP_LINE and all(len(line) <= QP_LINE for line in lines):
        return encoded
    out = []
    for number, line in enumerate(lines, start=1):
        limit = QP_LINE if number < len(lines) else QP_LINE - 1
        while len(line) > limit:
            cut = _cut(line, QP_LINE - 1)
            out.append(line[:cut] + b"=")
            line = _dot_free(line[cut:])  # the cut may have left a "." first on the new line
        out.append(line)
    return b"\r\n".join(out)


def _cut(line: bytes, most: int) -> int:
    """The longest prefix of ``line`` of at most ``most`` bytes that does not split an "=XX"."""
    cut = 0
    while True:
        step = 3 if line[cut:cut + 1] == b"=" else 1
        if cut + step > most:
            return cut
        cut += step


def qp_value(value: str) -> Piece:
    return piece(_fit_lines(_qp(value)))

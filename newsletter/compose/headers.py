"""Header values for composed messages: checked addresses and domains, RFC 2047 encoded
words and folding to 78 characters.

Safety: values from data (names, merge values) pass ``header_text``, which turns every control
character (CR and LF among them) into a space, so no value can end a header line. A value that
holds ``=?`` or anything beyond printable ASCII is written as encoded words, so it reads back
literally and cannot smuggle in an encoded word of its own. Addresses are checked and refused
(``ValueError``), never repaired.
"""
from __future__ import annotations

import re
from base64 import b64encode
from functools import lru_cache
from typing import Callable, Sequence

import idna

MAX_LINE = 78            # RFC 5322 recommended header line length
EW_BYTES = 42            # UTF-8 bytes per encoded word: 56 base64 chars; "Subject: =?utf-8?b?...?=" is 77
PLAIN_WORD_MAX = 70      # longer unbroken words are encoded so that they can be folded

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SPACES = re.compile(r" {2,}")
_ATEXT = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~\-"
_ATOM_PHRASE = re.compile(rf"[{_ATEXT} ]*\Z")
_LOCAL_PART = re.compile(rf"[{_ATEXT}]+(?:\.[{_ATEXT}]+)*\Z")
_DOMAIN_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)\Z")


def header_text(value: str) -> str:
    """``value`` as one line of header-safe text: control characters (CR and LF among them)
    become spaces, runs of spaces collapse, the ends are trimmed. A line break in a name or a
    merge value never means anything, and without one no value can begin a header of its own."""
    return _SPACES.sub(" ", _CONTROL.sub(" ", value)).strip(" ")


def checked_address(address: str) -> str:
    """``address`` as it goes into a header and the SMTP envelope (an internationalised domain
    becomes its ASCII form), or ValueError saying what is wrong with it."""
    local, at, domain = address.rpartition("@")
    if not at or not local:
        raise ValueError("expected an address like name@example.org")
    if not _LOCAL_PART.match(local) or "=?" in local:
        raise ValueError(f"the part before '@' ({local!r}) is not a plain ASCII mailbox name")
    result = f"{local}@{ascii_domain(domain)}"
    if len(result) > 254:
        raise ValueError("longer than the 254 characters an address may have")
    return result


@lru_cache(maxsize=4096)
def ascii_domain(domain: str) -> str:
    """The ASCII (IDNA 2008) form of a domain name, or ValueError."""
    if not domain.isascii():
        try:
            domain = idna.encode(domain, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise ValueError(f"domain {domain!r} is not a valid internationalised name: {exc}") from None
    labels = domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.match(label) for label in labels):
        raise ValueError(f"domain {domain!r} is not a valid domain name")
    return domain


def encoded_words(text: str) -> list[str]:
    """RFC 2047 encoded words (UTF-8, base64), each holding whole characters and short enough
    that one fits on a folded header line."""
    data = text.encode("utf-8")
    words, start = [], 0
    while start < len(data):
        end = min(start + EW_BYTES, len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:  # not inside a UTF-8 sequence
            end -= 1
        words.append(f"=?utf-8?b?{b64encode(data[start:end]).decode('ascii')}?=")
        start = end
    return words


def _needs_encoding(text: str) -> bool:
    return not (text.isascii() and text.isprintable()) or "=?" in text


def _mixed_words(text: str, is_plain: Callable[[str], bool]) -> list[str]:
    """Words that can stand as they are stay plain; each run of the others becomes encoded
    words. A run is encoded together, spaces included, because the space between two
    adjacent encoded words is dropped when they are decoded."""
    out: list[str] = []
    run: list[str] = []
    for word in text.split(" "):
        if is_plain(word):
            if run:
                out += encoded_words(" ".join(run))
                run = []
            out.append(word)
        else:
            run.append(word)
    if run:
        out += encoded_words(" ".join(run))
    return out


def _plain_atom(word: str) -> bool:
    return 0 < len(word) <= PLAIN_WORD_MAX and "=?" not in word and bool(_ATOM_PHRASE.match(word))


def _plain_text(word: str) -> bool:
    return len(word) <= PLAIN_WORD_MAX and not _needs_encoding(word)


def phrase_words(name: str) -> list[str]:
    """A display name as RFC 5322 phrase words: atoms, one quoted string, or atoms and
    encoded words."""
    if not name:
        return []
    if not _needs_encoding(name) and max(map(len, name.split(" "))) <= PLAIN_WORD_MAX:
        if _ATOM_PHRASE.match(name):
            return name.split(" ")
        quoted = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return quoted.split(" ")   # folding at these spaces is FWS inside the quoted string
    return _mixed_words(name, _plain_atom)


def text_words(text: str) -> list[str]:
    """Unstructured header text (Subject) as words to fold: plain ASCII words as they are,
    the rest as encoded words."""
    return _mixed_words(text, _plain_text)


def fold(name: str, words: Sequence[str]) -> str:
    """``Name: word word ...`` with CRLF + space before a word that would pass column 78.
    Folding only replaces a space, so unfolding gives back exactly the text."""
    lines, line = [], name + ":"
    for word in words:
        if len(line) + 1 + len(word) > MAX_LINE and line != name + ":":
            lines.append(line)
            line = " " + word
        else:
            line += " " + word
    lines.append(line)
    return "\r\n".join(lines) + "\r\n"


def address_words(display_name: str, address: str) -> list[str]:
    words = phrase_words(display_name)
    return [*words, f"<{address}>"] if words else [address]

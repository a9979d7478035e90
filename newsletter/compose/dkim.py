"""DKIM signatures (RFC 6376) for composed messages: rsa-sha256 and ed25519-sha256 (RFC 8463),
relaxed/relaxed canonicalisation.

Signing happens once per message, right after composition, so it must be cheap next to it.
Everything that is the same for every message is prepared once in ``DkimSigner``: the
canonical lines of the headers everyone gets, which fields are signed in which order, and
the DKIM-Signature header itself around its bh= and b= values. Per message there are the few
recipient headers to canonicalise, one regex pass of relaxed body canonicalisation, one
``hashlib.sha256`` call and one call into ``cryptography`` (OpenSSL). The composer does not
even need the body pass: it hashes a body joined from pieces canonicalised once per variant
(``Composer._signed_body``, ``qp.Body.encode_relaxed``) and passes the hash in
(``signature_for_hash``).

The signature covers From, To, Subject, Date, Message-ID, Reply-To, MIME-Version,
Content-Type, List-Id, List-Unsubscribe and List-Unsubscribe-Post (RFC 8058 requires both
List-Unsubscribe headers to be signed). The headers a forger would most like to add a second
copy of (From, Subject, the List-Unsubscribe pair) are "over-signed": named once more than
they occur, so adding one breaks the signature. No t= tag: composing stays a pure function
(the same inputs give the same bytes; both algorithms sign deterministically).
"""
from __future__ import annotations

import base64
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from newsletter.compose.headers import ascii_domain
from newsletter.core.config import Workspace
from newsletter.core.errors import ConfigError

SIGNED_HEADERS = ("from", "to", "subject", "date", "message-id", "reply-to", "mime-version",
                  "content-type", "list-id", "list-unsubscribe", "list-unsubscribe-post")
OVERSIGNED = ("from", "subject", "list-unsubscribe", "list-unsubscribe-post")
_SAME_FOR_EVERYONE = ("from", "reply-to", "mime-version", "content-type", "list-id", "list-unsubscribe-post")
_SIGNED_KEYS = {name.encode("ascii"): name for name in SIGNED_HEADERS}
MIN_RSA_BITS = 1024       # RFC 8301: verifiers must refuse shorter keys
_WSP_RUN = re.compile(rb"[ \t]+")
_SPACE_BEFORE_SPACE_OR_EOL = re.compile(rb" (?= |\r\n)")
_TWO_SPACES = re.compile(rb"  ")
_SPACE_CRLF = re.compile(rb" \r\n")
_FOLD = re.compile(rb"\r\n(?=[ \t])")
PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


class DkimError(ConfigError):
    """The signing key or the DKIM settings cannot be used."""


# -- canonicalisation (RFC 6376 section 3.4) ------------------------------------------------

def relaxed_body(body: bytes) -> bytes:
    """Relaxed body canonicalisation: runs of spaces and tabs become one space, spaces at line
    ends and empty lines at the end go, and a non-empty body ends with CRLF."""
    return relaxed_end(relaxed_lines(body))


def relaxed_lines(data: bytes) -> bytes:
    """The part of relaxed body canonicalisation that works inside lines (runs of spaces and
    tabs as one space, none at a line end), on any stretch of a body. It is local: a body cut
    into pieces none of which ends with a space or tab canonicalises piece by piece (the
    composer's quoted-printable pieces never do, as ``b2a_qp`` writes such a space "=20").

    Speed matters here (it runs over every message's whole body). Where there are runs of
    spaces, one pass of the regex engine does it all: with tabs made spaces, dropping every
    space that is followed by a space or a line end leaves of each run its last space, and
    of spaces at a line end none (a literal first and a constant replacement keep the engine
    in C). That pass stops at every space, though, so a body without runs (found by a
    search for two spaces, which the engine scans faster) gets a search for a space before
    a line end instead."""
    if b"\t" in data:    # one byte: memchr
        data = data.replace(b"\t", b" ")
    if _TWO_SPACES.search(data):
        return _SPACE_BEFORE_SPACE_OR_EOL.sub(b"", data)
    if _SPACE_CRLF.search(data):   # (faster than ``in`` where spaces are many)
        return data.replace(b" \r\n", b"\r\n")
    return data


def relaxed_end(body: bytes) -> bytes:
    """The end of relaxed body canonicalisation: no empty lines at the end, and a non-empty
    body ends with CRLF."""
    if body.endswith(b"\r\n") and not body.endswith(b"\r\n\r\n") and body != b"\r\n":
        return body
    end = len(body)
    while body.endswith(b"\r\n", 0, end):
        end -= 2
    return body[:end] + b"\r\n" if end else b""


def relaxed_header(name: bytes, value: bytes) -> bytes:
    """``name:value`` CRLF, relaxed: lower-case name, unfolded, runs of white space as one
    space, none around the value."""
    if b"\r" in value:      # (short values: these scans cost less than a regex call)
        value = _FOLD.sub(b"", value)
    if b"\t" in value or b"  " in value:
        value = _WSP_RUN.sub(b" ", value)
    return name.strip(b" \t").lower() + b":" + value.strip(b" ") + b"\r\n"


def header_fields(head: bytes) -> list[tuple[bytes, bytes]]:
    """(name, raw value) of each header field, in order; a value keeps its folding."""
    fields: list[tuple[bytes, bytes]] = []
    for line in head.split(b"\r\n"):
        if not line:
            continue
        if line[:1] in (b" ", b"\t") and fields:
            name, value = fields[-1]
            fields[-1] = (name, value + b"\r\n" + line)
        else:
            name, _, value = line.partition(b":")
            fields.append((name, value))
    return fields


def split_message(message: bytes) -> tuple[bytes, bytes]:
    """Header block (each line ending CRLF) and body of a CRLF message."""
    end = message.find(b"\r\n\r\n")
    if end < 0:
        return message if message.endswith(b"\r\n") else message + b"\r\n", b""
    return message[:end + 2], message[end + 4:]


# -- the signer -----------------------------------------------------------------------------

@dataclass(frozen=True)
class _Algorithm:
    tag: str                    # a=
    key_type: str               # k= in the DNS record
    sign: Callable[[bytes], bytes]


@dataclass(frozen=True)
class _Layout:
    """The DKIM-Signature header for one h= list, around its bh= value: the folded text, its
    relaxed form as signed, and the column where b= starts."""
    before: bytes
    after: bytes
    signed_before: bytes
    signed_after: bytes
    column: int


@dataclass(frozen=True)
class _Plan:
    names: tuple[str, ...]    # h=
    order: tuple[int, ...]    # the signed fields' indices among the message's signed fields


class DkimSigner:
    """Signs messages for one domain and selector with one key. Thread-safe."""

    def __init__(self, key: PrivateKey, domain: str, selector: str):
        self.domain, self.selector, self.key = domain.lower(), selector, key
        self._algorithm = _algorithm(key)
        # Canonical lines of headers that are the same in every message of a campaign (From,
        # List-Id, MIME-Version, ...): made once. Dict reads and writes are atomic in CPython.
        self._canonical: dict[tuple[bytes, bytes], bytes] = {}
        self._layouts: dict[tuple[str, ...], _Layout] = {}
        self._plans: dict[tuple[str, ...], _Plan] = {}
        self._prefix = ["v=1;", f"a={self.algorithm};", "c=relaxed/relaxed;", f"d={self.domain};",
                        f"s={selector};"]

    @property
    def algorithm(self) -> str:
        return self._algorithm.tag

    def sign(self, message: bytes) -> bytes:
        """``message`` (CRLF line ends) with a DKIM-Signature header in front."""
        head, body = split_message(message)
        return self.signature(head, body) + message

    def signature(self, head: bytes, body: bytes) -> bytes:
        """The DKIM-Signature header line(s), CRLF-terminated, for this header block and body."""
        return self.signature_for_hash(head, hashlib.sha256(relaxed_body(body)).digest())

    def signature_for_hash(self, head: bytes, body_hash: bytes) -> bytes:
        """The DKIM-Signature header for this header block and ``body_hash``, the SHA-256 of
        the body in relaxed canonical form (the composer makes that from pieces it
        canonicalised once per variant)."""
        names, signed = self._signed_headers(head)
        layout = self._layouts.get(names) or self._new_layout(names)
        bh = base64.b64encode(body_hash)
        data = b"".join((signed, layout.signed_before, bh, layout.signed_after))
        signature = base64.b64encode(self._algorithm.sign(data))
        return b"".join((layout.before, bh, layout.after, _b_lines(signature, layout.column)))

    def _new_layout(self, names: tuple[str, ...]) -> _Layout:
        """The header is folded before it is signed, and what is signed is its relaxed form
        with an empty b=, exactly as a verifier will rebuild it. Both are the same for every
        message with these h= names but for bh=, whose value (a SHA-256 in base64) is always
        44 characters long: made once with a stand-in of that length, then cut there."""
        stand_in = b"#" * 44
        unsigned = _fold([*self._prefix, *_h_tag(list(names)), f"bh={stand_in.decode()};", "b="]).encode("ascii")
        signed = relaxed_header(b"DKIM-Signature", unsigned[len(b"DKIM-Signature:"):])[:-2]
        before, after = unsigned.split(stand_in)
        signed_before, signed_after = signed.split(stand_in)
        layout = _Layout(before, after, signed_before, signed_after, len(unsigned) - unsigned.rfind(b"\n") - 1)
        if len(self._layouts) < 64:
            self._layouts[names] = layout
        return layout

    def _signed_headers(self, head: bytes) -> tuple[tuple[str, ...], bytes]:
        """The h= names and the canonical header lines they cover, in that order."""
        fields = [(key, name, value) for name, value in header_fields(head)
                  if (key := _SIGNED_KEYS.get(name.rstrip(b" \t").lower())) is not None]
        present = tuple(key for key, _, _ in fields)
        plan = self._plans.get(present) or self._new_plan(present)
        cache, lines = self._canonical, []
        for index in plan.order:
            key, name, value = fields[index]
            line = cache.get((name, value))
            if line is None:
                line = relaxed_header(name, value)
                if key in _SAME_FOR_EVERYONE and len(cache) < 64:
                    cache[(name, value)] = line
            lines.append(line)
        return plan.names, b"".join(lines)

    def _new_plan(self, present: tuple[str, ...]) -> _Plan:
        """Which fields are signed in which order, for messages whose signed header fields
        are ``present`` (their names, top down): the same for every message of a campaign.
        A name that occurs more than once is signed from the bottom up (RFC 6376 5.4.2)."""
        names, order = [], []
        for key in SIGNED_HEADERS:
            for index in reversed([i for i, k in enumerate(present) if k == key]):
                names.append(key)
                order.append(index)
            if key in OVERSIGNED:
                names.append(key)     # signs "no further header of this name"
        plan = _Plan(tuple(names), tuple(order))
        if len(self._plans) < 64:
            self._plans[present] = plan
        return plan

    def dns_name(self) -> str:
        return f"{self.selector}._domainkey.{self.domain}"

    def dns_record(self) -> str:
        """The TXT record's text: v=DKIM1; k=...; p=..."""
        return dns_record_for(self.key.public_key())


def _algorithm(key: PrivateKey) -> _Algorithm:
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < MIN_RSA_BITS:
            raise DkimError(f"the RSA key has {key.key_size} bits; DKIM needs at least {MIN_RSA_BITS} "
                            "(2048 recommended): make a new one with `newsletter dkim keygen`")
        pad, sha = padding.PKCS1v15(), hashes.SHA256()
        return _Algorithm("rsa-sha256", "rsa", lambda data: key.sign(data, pad, sha))
    if isinstance(key, ed25519.Ed25519PrivateKey):
        # RFC 8463: Ed25519 signs the SHA-256 hash of the data, not the data itself.
        return _Algorithm("ed25519-sha256", "ed25519", lambda data: key.sign(hashlib.sha256(data).digest()))
    raise DkimError(f"a {type(key).__name__} cannot sign DKIM: expected an RSA or Ed25519 key")


def _h_tag(names: list[str]) -> list[str]:
    """h= as words to fold: "h=from:", "to:", ..., "last;" (FWS may stand around a colon)."""
    words = [f"{name}:" for name in names]
    words[0] = "h=" + words[0]
    words[-1] = words[-1][:-1] + ";"
    return words


def _fold(words: list[str]) -> str:
    """``DKIM-Signature:`` and the words, folded before 78 columns with CRLF TAB. A word
    after a ";" is joined with a space, one after a ":" (inside h=) directly."""
    lines, line = [], "DKIM-Signature:"
    for word in words:
        glue = " " if line.endswith((";", "DKIM-Signature:")) else ""
        if len(line) + len(glue) + len(word) > 78:
            lines.append(line)
            line, glue = "\t", ""
        line += glue + word
    lines.append(line)
    return "\r\n".join(lines)


def _b_lines(signature: bytes, column: int) -> bytes:
    """The signature after "b=" (which starts at ``column``), in pieces on lines of at most
    78 columns (white space inside b= is ignored by verifiers), and the final CRLF."""
    out = []
    for start in range(0, len(signature), 64):
        piece = signature[start:start + 64]
        if column + len(piece) > 78:
            out.append(b"\r\n\t")
            column = 1
        out.append(piece)
        column += len(piece)
    out.append(b"\r\n")
    return b"".join(out)


# -- keys and DNS records -------------------------------------------------------------------

def dns_record_for(public: rsa.RSAPublicKey | ed25519.Ed25519PublicKey) -> str:
    if isinstance(public, ed25519.Ed25519PublicKey):
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return f"v=DKIM1; k=ed25519; p={base64.b64encode(raw).decode('ascii')}"
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return f"v=DKIM1; k=rsa; p={base64.b64encode(der).decode('ascii')}"


def txt_strings(record: str, size: int = 255) -> list[str]:
    """A TXT record's text in the strings of at most 255 characters DNS needs."""
    return [record[i:i + size] for i in range(0, len(record), size)]


def zone_line(name: str, record: str) -> str:
    """The record as a line for a zone file (most DNS providers' forms take the quoted text)."""
    quoted = " ".join(f'"{s}"' for s in txt_strings(record))
    return f"{name}. IN TXT ( {quoted} )"


def generate_key(algorithm: str = "rsa") -> PrivateKey:
    if algorithm == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if algorithm == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise DkimError(f"unknown key type {algorithm!r}; expected rsa or ed25519")


def write_key(key: PrivateKey, path: Path, *, overwrite: bool = False) -> None:
    """The key as PEM (PKCS#8), readable by its owner only (mode 0600 from the start)."""
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise DkimError(f"{path} exists already; pass --force to replace it (the published "
                        "DNS record must then be replaced too)") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    os.chmod(path, 0o600)


def load_key(path: Path) -> PrivateKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DkimError(f"dkim.key_file: cannot read {path}: {exc.strerror}; "
                        "make a key with `newsletter dkim keygen --selector NAME`") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise DkimError(f"dkim.key_file: {path} is not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, (rsa.RSAPrivateKey, ed25519.Ed25519PrivateKey)):
        raise DkimError(f"dkim.key_file: {path} holds a {type(key).__name__}; expected RSA or Ed25519")
    return key


def signer_for(ws: Workspace) -> DkimSigner | None:
    """The workspace's signer, or None when newsletter.yaml has no dkim section."""
    dkim, path = ws.settings.dkim, ws.dkim_key_file
    if dkim is None or path is None:
        return None
    domain = dkim.domain or ws.settings.sender.from_address.rpartition("@")[2]
    return DkimSigner(load_key(path), checked_domain(domain), dkim.selector)


def checked_domain(domain: str) -> str:
    try:
        return ascii_domain(domain)
    except ValueError as exc:
        raise DkimError(f"newsletter.yaml: dkim.domain: {exc}") from None

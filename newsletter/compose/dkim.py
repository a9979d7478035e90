"""DKIM signatures (RFC 6376) for composed messages: rsa-sha256 and ed25519-sha256 (RFC 8463),
relaxed/relaxed canonicalisation.

Signing happens once per message, right after composition, so it must be cheap next to it:
the header canonicalisation works on the few header lines only, the relaxed body
canonicalisation is skipped where the body has nothing it would change (checked with C-speed
``in`` scans), the body hash is one ``hashlib.sha256`` call, and the signature itself is one
call into ``cryptography`` (OpenSSL). Everything that is the same for every message (the
tag list, the header names, the key) is prepared once in ``DkimSigner``.

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
MIN_RSA_BITS = 1024       # RFC 8301: verifiers must refuse shorter keys
_WSP_RUN = re.compile(rb"[ \t]+")
_SPACES = re.compile(rb"  +")
_TWO_SPACES = re.compile(rb"  ")
_SPACE_CRLF = re.compile(rb" \r\n")
_FOLD = re.compile(rb"\r\n(?=[ \t])")
PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


class DkimError(ConfigError):
    """The signing key or the DKIM settings cannot be used."""


# -- canonicalisation (RFC 6376 section 3.4) ------------------------------------------------

def relaxed_body(body: bytes) -> bytes:
    """Relaxed body canonicalisation: runs of spaces and tabs become one space, spaces at line
    ends and empty lines at the end go, and a non-empty body ends with CRLF.

    Speed matters here (it runs over every message's whole body): the searches are regular
    expressions for literal strings, which the regex engine scans several times faster than
    ``bytes.__contains__`` finds a two-byte string in text full of single spaces, and the
    common case (a quoted-printable body, which has nothing to change) makes no copy."""
    if b"\t" in body:    # one byte: memchr
        body = body.replace(b"\t", b" ")
    if _TWO_SPACES.search(body):
        body = _SPACES.sub(b" ", body)
    if _SPACE_CRLF.search(body):
        body = body.replace(b" \r\n", b"\r\n")
    if body.endswith(b"\r\n") and not body.endswith(b"\r\n\r\n") and body != b"\r\n":
        return body
    end = len(body)
    while body.endswith(b"\r\n", 0, end):
        end -= 2
    return body[:end] + b"\r\n" if end else b""


def relaxed_header(name: bytes, value: bytes) -> bytes:
    """``name:value`` CRLF, relaxed: lower-case name, unfolded, runs of white space as one
    space, none around the value."""
    value = _WSP_RUN.sub(b" ", _FOLD.sub(b"", value)).strip(b" ")
    return name.strip(b" \t").lower() + b":" + value + b"\r\n"


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


class DkimSigner:
    """Signs messages for one domain and selector with one key. Thread-safe."""

    def __init__(self, key: PrivateKey, domain: str, selector: str):
        self.domain, self.selector, self.key = domain.lower(), selector, key
        self._algorithm = _algorithm(key)
        # Canonical lines of headers that are the same in every message of a campaign (From,
        # List-Id, MIME-Version, ...): made once. Dict reads and writes are atomic in CPython.
        self._canonical: dict[tuple[bytes, bytes], bytes] = {}
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
        body_hash = base64.b64encode(hashlib.sha256(relaxed_body(body)).digest()).decode("ascii")
        names, signed = self._signed_headers(head)
        # The header is folded before it is signed, and what is signed is its relaxed form
        # with an empty b=, exactly as a verifier will rebuild it.
        unsigned = _fold([*self._prefix, *_h_tag(names), f"bh={body_hash};", "b="])
        data = signed + relaxed_header(b"DKIM-Signature", unsigned[len("DKIM-Signature:"):].encode("ascii"))[:-2]
        signature = base64.b64encode(self._algorithm.sign(data)).decode("ascii")
        return _append_b(unsigned, signature).encode("ascii")

    def _signed_headers(self, head: bytes) -> tuple[list[str], bytes]:
        """The h= names and the canonical header lines they cover, in that order. A name
        that occurs more than once is signed from the bottom up (RFC 6376 5.4.2)."""
        found: dict[str, list[tuple[bytes, bytes]]] = {}
        for name, value in header_fields(head):
            key = name.strip(b" \t").lower().decode("ascii", "replace")
            if key in SIGNED_HEADERS:
                found.setdefault(key, []).append((name, value))
        names, lines = [], []
        cache = self._canonical
        for key in SIGNED_HEADERS:
            for name, value in reversed(found.get(key, ())):
                names.append(key)
                line = cache.get((name, value))
                if line is None:
                    line = relaxed_header(name, value)
                    if key in _SAME_FOR_EVERYONE and len(cache) < 64:
                        cache[(name, value)] = line
                lines.append(line)
            if key in OVERSIGNED:
                names.append(key)     # signs "no further header of this name"
        return names, b"".join(lines)

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


def _append_b(unsigned: str, signature: str) -> str:
    """The signature after "b=", in pieces on lines of at most 78 columns (white space
    inside b= is ignored by verifiers), and the final CRLF."""
    lines = unsigned.split("\r\n")
    line = lines.pop()
    for start in range(0, len(signature), 64):
        piece = signature[start:start + 64]
        if len(line) + len(piece) > 78:
            lines.append(line)
            line = "\t"
        line += piece
    lines.append(line)
    return "\r\n".join(lines) + "\r\n"


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

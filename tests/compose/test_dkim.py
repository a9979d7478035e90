"""DKIM signatures checked by two other implementations: dkimpy (``dkim.verify``) and OpenDKIM
(``opendkim-testmsg``, which looks the key up in DNS: a dnslib server on loopback answers,
see tests/support/dns.py)."""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
import random
import re
import stat
from datetime import datetime, timezone
from pathlib import Path

import dkim as dkimpy
import pytest
from click.testing import CliRunner
from dkim.canonicalization import Relaxed as RelaxedCanonicalization
from hypothesis import given, strategies as st

from newsletter.cli import main
from newsletter.compose import dkim as signing
from newsletter.compose.composer import Composer, Recipient
from newsletter.compose.dkim import DkimError, DkimSigner, relaxed_body
from newsletter.core.config import load_workspace
from newsletter.content.loader import load_edition
from newsletter.render.pipeline import render_edition
from tests.conftest import require_tool
from tests.support.delivery import KEY, composer_for, make_recipients, sample_settings, small_variant
from tests.support.dns import opendkim_available, opendkim_verify
from tests.support.samples import ALL

DOMAIN = "mcin.example.org"
NOW = datetime(2026, 11, 3, 9, 0, tzinfo=timezone.utc)
PEOPLE = [Recipient(1, "anna@example.org", "Anna Schmidt", {"first_name": "Anna", "attributes": {"centre": "Nord"}}),
          Recipient(2, "jo@example.org", "Jörg \"Jo\" Müller-Lüdenscheidt", {"first_name": "Jörg  &\t<Co>"})]


@pytest.fixture(scope="module")
def signers() -> dict[str, DkimSigner]:
    return {"rsa": DkimSigner(signing.generate_key("rsa"), DOMAIN, "rsa2026"),
            "ed25519": DkimSigner(signing.generate_key("ed25519"), DOMAIN, "ed2026")}


def zone_of(*signers: DkimSigner) -> dict[tuple[str, str], list[str]]:
    return {(s.dns_name(), "TXT"): [s.dns_record()] for s in signers}


def dkimpy_verify(message: bytes, *signers: DkimSigner) -> bool:
    records = {f"{s.dns_name()}.".encode(): s.dns_record().encode() for s in signers}
    return dkimpy.verify(message, dnsfunc=lambda name, timeout=5: records.get(name, b""))


@pytest.fixture(scope="module")
def sample_messages(signers) -> list[tuple[str, bytes]]:
    """Every variant of every sample edition (and the kitchen-sink edition), for two people,
    signed with each key."""
    out = []
    for sample in ALL:
        ws = load_workspace(sample.root)
        for variant in render_edition(ws, load_edition(ws, sample.edition)):
            for alg, signer in signers.items():
                composer = Composer(variant, ws.settings, KEY, clock=lambda: NOW, campaign="9", dkim=signer)
                out += [(f"{sample.id}/{variant.key}/{alg}/{r.id}", bytes(composer.compose(r))) for r in PEOPLE]
    return out


def test_every_sample_variant_verifies_with_dkimpy(sample_messages, signers):
    assert len(sample_messages) >= 4 * len(ALL)
    failed = [label for label, message in sample_messages if not dkimpy_verify(message, *signers.values())]
    assert not failed


def test_every_sample_variant_verifies_with_opendkim(sample_messages, signers):
    require_tool(opendkim_available(), "opendkim-testmsg with unshare (root)")
    messages = [m for _, m in sample_messages]
    # Controls that must fail, so a verifier that passes everything cannot pass this test:
    # a changed body, and a key that DNS does not know.
    tampered = messages[0].replace(b"News", b"Fake", 1) if b"News" in messages[0] else messages[0][:-40] + b"x\r\n"
    unknown = DkimSigner(signing.generate_key("rsa"), DOMAIN, "unpublished").sign(_unsigned(messages[0]))
    results = opendkim_verify(messages + [tampered, unknown], zone_of(*signers.values()))
    failed = [(label, out) for (label, _), (code, out) in zip(sample_messages, results) if code != 0]
    assert not failed
    assert results[-2][0] != 0 and results[-1][0] != 0


def _unsigned(message: bytes) -> bytes:
    """The message without its DKIM-Signature header (the first header, with its folded lines)."""
    return re.sub(rb"\ADKIM-Signature:.*?\r\n(?=\S)", b"", message, flags=re.S)


@pytest.mark.parametrize("alg", ["rsa", "ed25519"])
@pytest.mark.parametrize("change", [
    lambda m: m.replace(b"List-Unsubscribe-Post: List-Unsubscribe=One-Click",
                        b"List-Unsubscribe-Post: List-Unsubscribe=Two-Click"),
    lambda m: m.replace(b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n", b""),
    lambda m: m.replace(b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
                        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
                        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"),
    lambda m: m.replace(b"\r\nList-Unsubscribe: <https://", b"\r\nList-Unsubscribe: <https://evil.", 1),
], ids=["post-altered", "post-removed", "post-added", "unsubscribe-altered"])
def test_list_unsubscribe_changes_break_the_signature(signers, alg, change):
    composer = Composer(small_variant(), sample_settings(), KEY, clock=lambda: NOW, campaign="1", dkim=signers[alg])
    message = bytes(composer.compose(make_recipients(1)[0]))
    assert dkimpy_verify(message, signers[alg])
    changed = change(message)
    assert changed != message
    assert not dkimpy_verify(changed, signers[alg])


def test_list_unsubscribe_post_altered_fails_with_opendkim(signers):
    require_tool(opendkim_available(), "opendkim-testmsg with unshare (root)")
    composer = Composer(small_variant(), sample_settings(), KEY, clock=lambda: NOW, campaign="1", dkim=signers["rsa"])
    message = bytes(composer.compose(make_recipients(1)[0]))
    altered = message.replace(b"List-Unsubscribe=One-Click", b"List-Unsubscribe=One-Click-Not")
    (ok, _), (bad, out) = opendkim_verify([message, altered], zone_of(signers["rsa"]))
    assert ok == 0 and bad != 0, out


def test_signature_covers_the_required_headers(signers):
    composer = Composer(small_variant(), sample_settings(), KEY, clock=lambda: NOW, campaign="1", dkim=signers["rsa"])
    message = bytes(composer.compose(make_recipients(1)[0]))
    header = re.match(rb"DKIM-Signature:(.*?)\r\n(?=\S)", message, re.S).group(1)
    tags = dict(t.strip().split("=", 1) for t in re.sub(r"\s+", "", header.decode()).split(";") if t)
    assert tags["c"] == "relaxed/relaxed" and tags["d"] == DOMAIN and tags["a"] == "rsa-sha256"
    assert {"from", "to", "subject", "date", "message-id", "mime-version", "content-type", "list-id",
            "list-unsubscribe", "list-unsubscribe-post"} <= set(tags["h"].split(":"))
    header_lines = re.match(rb"DKIM-Signature:.*?\r\n(?=\S)", message, re.S).group(0).split(b"\r\n")
    assert all(len(line) <= 78 for line in header_lines)


def test_signing_is_pure_and_leaves_the_message_as_it_was(signers):
    plain = composer_for(sample_settings())
    signed = Composer(small_variant(), sample_settings(), KEY, clock=plain._clock, campaign="1", dkim=signers["ed25519"])
    r = make_recipients(1)[0]
    assert signed.compose(r) == signed.compose(r)
    assert _unsigned(bytes(signed.compose(r))) == bytes(plain.compose(r))


def refold(message: bytes, rng: random.Random) -> bytes:
    """Every header unfolded and folded again at other spaces (as a relay may), then the
    whole message with LF line ends (as a mailbox file stores it)."""
    head, _, body = message.partition(b"\r\n\r\n")
    lines = re.sub(rb"\r\n[ \t]", lambda m: b" " if m.group(0)[-1:] == b" " else b"\t", head).split(b"\r\n")
    out = []
    for line in lines:
        if line.lower().startswith(b"dkim-signature:"):
            out.append(line)
            continue
        words = line.split(b" ")
        folded = words[0]
        for word in words[1:]:
            folded += (b"\r\n " if rng.random() < 0.3 else b" ") + word
        out.append(folded)
    return (b"\r\n".join(out) + b"\r\n\r\n" + body).replace(b"\r\n", b"\n")


names = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)


@given(name=names, first=names, subject=st.text(max_size=80), body=st.text(max_size=300),
       alg=st.sampled_from(["rsa", "ed25519"]), rng=st.randoms(use_true_random=False))
def test_composed_messages_verify_after_refolding_and_lf(signers, name, first, subject, body, alg, rng):
    from newsletter.content.merge import token
    base = small_variant()
    variant = dataclasses.replace(base, subject=subject + " " + token(0), html=base.html + body,
                                  text=base.text + body)
    composer = Composer(variant, sample_settings(), KEY, clock=lambda: NOW, campaign="3", dkim=signers[alg])
    message = bytes(composer.compose(Recipient(5, "r@example.org", name, {"first_name": first})))
    assert dkimpy_verify(message, signers[alg])
    assert dkimpy_verify(refold(message, rng), signers[alg])


# Static text with what relaxed canonicalisation changes (runs of spaces and tabs, spaces at
# line ends, empty lines at the end), placeholders anywhere in it, and merge values with
# trailing spaces, tabs, non-ASCII and long runs without a space.
statics = st.lists(st.sampled_from([" ", "  ", "\t", "\n", "\n\n", "a", "ä", "=", ".", "Wort ", "x" * 90, "€"]),
                   max_size=40).map("".join)
values = st.lists(st.sampled_from([" ", "\t", "a", "Ö", "李", "=", "y" * 100, ". "]), max_size=30).map("".join)


@given(pieces=st.lists(statics, min_size=1, max_size=5), slots=st.lists(st.sampled_from([0, 1]), max_size=4),
       first=values, name=values)
def test_body_hash_from_pieces_is_the_finished_bodys(signers, pieces, slots, first, name):
    """The composer hashes the body from pieces canonicalised once per variant; that must be
    the hash of the finished body, canonicalised whole by another implementation (dkimpy)."""
    from newsletter.content.merge import token
    text = pieces[0] + "".join(token(slot) + static for slot, static in zip(slots, pieces[1:]))
    variant = dataclasses.replace(small_variant(), text=text, html=text.replace("\n", "<br>\n") + "\n\n")
    composer = Composer(variant, sample_settings(), KEY, clock=lambda: NOW, campaign="3", dkim=signers["ed25519"])
    message = bytes(composer.compose(Recipient(5, "r@example.org", name, {"first_name": first})))
    body = message.partition(b"\r\n\r\n")[2]
    expected = base64.b64encode(hashlib.sha256(RelaxedCanonicalization.canonicalize_body(body)).digest())
    tags = re.search(rb"bh=([^;]+);", message).group(1)
    assert re.sub(rb"\s", b"", tags) == expected
    assert dkimpy_verify(message, signers["ed25519"])


def test_pieces_that_could_join_runs_of_spaces_are_not_canonicalised_apart():
    """A piece ending with a space (never made by b2a_qp, so built by hand here) could join
    a run with the next one: encode_relaxed says so (None), and the composer then
    canonicalises the whole body."""
    from newsletter.compose.qp import Body, piece
    from newsletter.content.merge import token
    body = Body(f"Hello {token(0)} and welcome\n")
    assert body.encode_relaxed({0: piece(b"Anna=20")}, signing.relaxed_lines)[1] == b"Hello=20Anna=20 and welcome\r\n"
    encoded, relaxed = body.encode_relaxed({0: piece(b"Anna ")}, signing.relaxed_lines)
    assert encoded == b"Hello=20Anna  and welcome\r\n" and relaxed is None


@given(st.binary(max_size=400).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"\r\n"))
       | st.lists(st.sampled_from([b" ", b"\t", b"a", b"\r\n", b"  ", b"=20", b"x "]), max_size=40).map(b"".join))
def test_relaxed_body_agrees_with_dkimpy(body):
    assert relaxed_body(body) == RelaxedCanonicalization.canonicalize_body(body)


@given(name=st.sampled_from([b"Subject", b"To ", b"LIST-ID\t"]),
       value=st.lists(st.sampled_from([b" ", b"\t", b"a", b"\r\n ", b"\r\n\t", b"  ", b"=?x?=", b"\xc3\xa4"]),
                      max_size=30).map(b"".join))
def test_relaxed_header_agrees_with_dkimpy(name, value):
    [(their_name, their_value)] = RelaxedCanonicalization.canonicalize_headers([(name, value)])
    assert signing.relaxed_header(name, value) == their_name + b":" + their_value


def test_short_and_foreign_keys_are_refused(tmp_path: Path):
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    class Short:   # cryptography refuses to make keys under 1024 bits; a stand-in has 768
        key_size = 768
    rsa.RSAPrivateKey.register(Short)
    with pytest.raises(DkimError, match="at least 1024"):
        DkimSigner(Short(), DOMAIN, "s")  # type: ignore[arg-type]
    path = tmp_path / "ec.key"
    signing.write_key(ec.generate_private_key(ec.SECP256R1()), path)
    with pytest.raises(DkimError, match="expected RSA or Ed25519"):
        signing.load_key(path)
    (tmp_path / "junk.key").write_text("not a key")
    with pytest.raises(DkimError, match="junk.key is not an unencrypted PEM"):
        signing.load_key(tmp_path / "junk.key")
    with pytest.raises(DkimError, match="newsletter dkim keygen"):
        signing.load_key(tmp_path / "missing.key")


@pytest.mark.parametrize("alg", ["rsa", "ed25519"])
def test_keygen_writes_a_private_key_and_prints_its_record(sample_ws: Path, alg: str):
    result = CliRunner().invoke(main, ["-C", str(sample_ws), "dkim", "keygen", "--selector", "nov", "-a", alg])
    assert result.exit_code == 0, result.output
    key_file = sample_ws / "dkim" / "nov.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    record = re.search(r"value: (v=DKIM1; k=\S+; p=\S+)", result.output).group(1)
    assert f"k={alg}" in record and "nov._domainkey.mcin.example.org" in result.output
    # Configured as the command says, the workspace signs with that key, and the printed
    # record verifies what it signs.
    settings_file = sample_ws / "newsletter.yaml"
    settings_file.write_text(settings_file.read_text() + "dkim:\n  selector: nov\n")
    ws = load_workspace(sample_ws)
    signer = signing.signer_for(ws)
    message = bytes(Composer(small_variant(), ws.settings, KEY, clock=lambda: NOW, campaign="1",
                             dkim=signer).compose(make_recipients(1)[0]))
    assert dkimpy.verify(message, dnsfunc=lambda name, timeout=5: record.encode())
    again = CliRunner().invoke(main, ["-C", str(sample_ws), "dkim", "keygen", "--selector", "nov"])
    assert again.exit_code == 1 and "exists already" in again.output


def test_keygen_refuses_a_bad_selector(sample_ws: Path):
    result = CliRunner().invoke(main, ["-C", str(sample_ws), "dkim", "keygen", "--selector", "no way"])
    assert result.exit_code == 2 and "--selector" in result.output
    assert not (sample_ws / "dkim").exists()


def test_a_configured_key_that_is_missing_is_a_clear_error(sample_ws: Path):
    settings_file = sample_ws / "newsletter.yaml"
    settings_file.write_text(settings_file.read_text() + "dkim:\n  selector: gone\n")
    with pytest.raises(DkimError, match=r"dkim\.key_file: cannot read .*gone\.key.*keygen"):
        signing.signer_for(load_workspace(sample_ws))

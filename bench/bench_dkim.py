"""DKIM signing speed: ``DkimSigner.sign`` against dkimpy's ``dkim.sign`` on the same composed
messages (RSA-2048 and Ed25519, relaxed/relaxed, the same header list), and composition with
signing (``Composer.compose`` with a signer) in messages/s, on one core.

    python bench/bench_dkim.py [--rounds 5] [--messages 1000]

Two variants as in bench_compose: the synthetic 75 KB newsletter and the largest variant of the
sample edition. Interleaved rounds, medians, in messages per CPU second (see ``timed``). Goals: signing at least 10x dkimpy, composition
with signing at least 1,000 messages/s. The last column shows what signing adds to composing
(where the body hash comes from pre-canonicalised pieces) against dkimpy: no goal on it.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import dkim as dkimpy  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402

from bench.bench_compose import pin_to_one_core, recipients, sample_variant, synthetic_variant  # noqa: E402
from bench.common import Goal, Report, markdown_table  # noqa: E402
from newsletter.compose import dkim as signing  # noqa: E402
from newsletter.compose.composer import Composer  # noqa: E402
from newsletter.core.config import load_settings  # noqa: E402

DOMAIN, SELECTOR = "mcin.example.org", "bench"


def timed(fn: Callable[[bytes], object], items: Sequence) -> float:
    """Items per CPU second of this process (pinned to one core). CPU time rather than the
    wall clock: on a shared machine the other jobs' share of the core would otherwise land
    on whichever side happened to run at the time (a round of ours and one of dkimpy's last
    a fraction of a second each). Both sides are timed alike."""
    start = time.process_time()
    for item in items:
        fn(item)
    return len(items) / (time.process_time() - start)


def dkimpy_signer(key: signing.PrivateKey, signer: signing.DkimSigner) -> Callable[[bytes], bytes]:
    """dkimpy signing exactly what ours signs (the same h= list, over-signing included)."""
    if signer.algorithm == "ed25519-sha256":
        raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
        import base64
        private = base64.b64encode(raw)
    else:
        private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.NoEncryption())

    def sign(prepared: tuple[bytes, list[bytes]]) -> bytes:
        message, names = prepared
        return dkimpy.sign(message, SELECTOR.encode(), DOMAIN.encode(), private,
                           canonicalize=(b"relaxed", b"relaxed"), signature_algorithm=signer.algorithm.encode(),
                           include_headers=names) + message
    return sign


def with_names(message: bytes, signer: signing.DkimSigner) -> tuple[bytes, list[bytes]]:
    """The message and the h= names ours signs, worked out before the clock runs (so that
    dkimpy's time holds nothing of ours)."""
    names, _ = signer._signed_headers(signing.split_message(message)[0])
    return message, [n.encode() for n in names]


def run(variant, settings, alg: str, rounds: int, count: int) -> dict[str, float]:
    key = signing.generate_key(alg)
    signer = signing.DkimSigner(key, DOMAIN, SELECTOR)
    clock = lambda: datetime(2026, 11, 3, 9, 0, tzinfo=timezone.utc)  # noqa: E731
    plain = Composer(variant, settings, b"bench-key", campaign="bench", clock=clock)
    signed = Composer(variant, settings, b"bench-key", campaign="bench", clock=clock, dkim=signer)
    people = recipients(count)
    messages = [bytes(plain.compose(p)) for p in people]
    few = [with_names(m, signer) for m in messages[: max(20, count // 20)]]
    theirs_fn = dkimpy_signer(key, signer)
    record = signer.dns_record().encode()
    assert dkimpy.verify(signer.sign(messages[0]), dnsfunc=lambda *_a, **_k: record)
    assert dkimpy.verify(theirs_fn(few[0]), dnsfunc=lambda *_a, **_k: record)
    assert dkimpy.verify(bytes(signed.compose(people[0])), dnsfunc=lambda *_a, **_k: record)
    ours, theirs, composed, unsigned = [], [], [], []
    for _ in range(rounds):
        ours.append(timed(signer.sign, messages))
        theirs.append(timed(theirs_fn, few))
        composed.append(timed(signed.compose, people))
        unsigned.append(timed(plain.compose, people))
    return {"ours": statistics.median(ours), "dkimpy": statistics.median(theirs),
            "compose_signed": statistics.median(composed), "compose": statistics.median(unsigned),
            "kb": len(messages[0]) / 1024}


def main(argv: Sequence[str] | None = None) -> Report:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--messages", type=int, default=1000)
    args = parser.parse_args(argv)
    where = pin_to_one_core()
    settings = load_settings(ROOT / "newsletter.yaml")
    rows, goals = [], []
    for label, variant in [("synthetic 75 KB", synthetic_variant(75)), ("sample 2026-11", sample_variant())]:
        for alg in ("rsa", "ed25519"):
            r = run(variant, settings, alg, args.rounds, args.messages)
            times = r["ours"] / r["dkimpy"]
            # What signing adds to composing (per message), against dkimpy signing the result.
            in_compose = 1 / r["compose_signed"] - 1 / r["compose"]
            rows.append([f"{label} ({r['kb']:.0f} KB), {alg}", f"{r['ours']:,.0f}", f"{r['dkimpy']:,.0f}",
                         f"{times:.1f}x", f"{r['compose_signed']:,.0f}", f"{r['compose']:,.0f}",
                         f"{(1 / r['dkimpy']) / in_compose:.1f}x" if in_compose > 0 else "-"])
            goals += [Goal(f"{label}, {alg}: signing at least 10x dkimpy", f"{times:.1f}x", times >= 10),
                      Goal(f"{label}, {alg}: composition with signing at least 1,000 messages/s",
                           f"{r['compose_signed']:,.0f} messages/s", r["compose_signed"] >= 1000)]
    table = markdown_table(["messages", "DkimSigner.sign /s", "dkimpy.sign /s", "speed-up",
                            "compose+sign /s", "compose alone /s", "signing within compose vs dkimpy"], rows)
    return Report("dkim", "dkim: signing throughput on one core", table, goals,
                  [f"{where}; messages per CPU second; median of {args.rounds} interleaved rounds of "
                   f"{args.messages} messages (dkimpy: a twentieth of them)",
                   "signing within compose: (1/compose+sign - 1/compose alone) per message, the body hash "
                   "made from pieces canonicalised once per variant, against dkimpy's time for the message"])


if __name__ == "__main__":
    print(main().text())

"""VERP return paths: round trip, case folding, the 64-octet limit, forgery."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from newsletter.core import verp

KEY = b"verp-test-key"


@given(sid=st.integers(0, 10**12), cid=st.integers(0, 10**9))
def test_round_trip_survives_case_folding_and_fits_a_local_part(sid: int, cid: int) -> None:
    address = verp.return_path(KEY, sid, cid, "Bounces.Example.ORG")
    local, _, domain = address.partition("@")
    assert len(local.encode()) <= 64 and domain == "bounces.example.org"
    assert address.startswith("bounce+")
    for seen in (address, address.upper(), address.lower(), f"<{address.upper()}>"):
        assert verp.parse(KEY, seen, "bounces.example.org") == verp.ReturnPath(sid, cid)


def test_wrong_key_wrong_domain_and_tampering_are_refused() -> None:
    address = verp.return_path(KEY, 42, 7, "bounces.mcin.example.org")
    assert verp.parse(b"other key", address) is None
    assert verp.parse(KEY, address, "other.test") is None
    tampered = address.replace("bounce+42-", "bounce+43-")
    assert verp.parse(KEY, tampered) is None


def test_the_first_genuine_address_in_a_header_wins() -> None:
    good = verp.return_path(KEY, 5, 6, "bounces.mcin.example.org")
    forged = "bounce+1-1-0123456789abcdef@bounces.mcin.example.org"
    assert verp.parse(KEY, f"{forged}, {good}") == verp.ReturnPath(5, 6)


def test_ids_too_long_for_a_local_part_are_refused() -> None:
    with pytest.raises(ValueError, match="longer than 64"):
        verp.return_path(KEY, 10**25, 10**25, "bounces.mcin.example.org")

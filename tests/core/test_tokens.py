from __future__ import annotations

import re

import pytest
from hypothesis import given, strategies as st

from newsletter.core.tokens import PREFERENCES, UNSUBSCRIBE, make_token, verify_token

KEY = b"k" * 32
LIST = "news.example.org"


@given(sid=st.integers(0, 2**63) | st.text(min_size=1, max_size=40))
def test_token_round_trips_and_is_url_safe(sid):
    token = make_token(KEY, sid, LIST)
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}", token)
    assert verify_token(KEY, token, LIST) == str(sid)


def test_token_is_bound_to_key_list_and_purpose():
    token = make_token(KEY, 42, LIST)
    assert verify_token(b"other" * 8, token, LIST) is None
    assert verify_token(KEY, token, "other.example.org") is None
    assert verify_token(KEY, token, LIST, PREFERENCES) is None
    assert verify_token(KEY, make_token(KEY, 42, LIST, PREFERENCES), LIST, PREFERENCES) == "42"


def test_subscriber_id_cannot_be_swapped():
    mac = make_token(KEY, 42, LIST).split(".")[1]
    other_id = make_token(KEY, 43, LIST).split(".")[0]
    assert verify_token(KEY, f"{other_id}.{mac}", LIST) is None


@pytest.mark.parametrize("bad", ["", ".", "NDI", "NDI.", ".abc", "NDI.abc", "N DI.abc", "NDI=.x",
                                 "NDI.!!!!", "ÄÖÜ.abc", "NDI.abc.def", "\x00.\x00"])
def test_malformed_tokens_are_invalid_not_errors(bad):
    assert verify_token(KEY, bad, LIST) is None


def test_non_canonical_spelling_is_refused():
    sid, mac = make_token(KEY, 42, LIST).split(".")
    assert verify_token(KEY, f"{sid}.{mac}", LIST) == "42"
    assert verify_token(KEY, f"{sid}.{mac}=", LIST) is None
    assert verify_token(KEY, f"{sid}*.{mac}", LIST) is None


def test_field_boundaries_are_signed():
    # Plain concatenation of list id and subscriber id would sign "2x" + "1" and "2" + "x1" alike.
    mac = make_token(KEY, "1", "2x").split(".")[1]
    forged = f"{make_token(KEY, 'x1', '2').split('.')[0]}.{mac}"
    assert verify_token(KEY, forged, "2") is None


def test_empty_key_and_unknown_purpose_are_programming_errors():
    with pytest.raises(ValueError, match="empty secret"):
        make_token(b"", 1, LIST)
    with pytest.raises(ValueError, match="purpose"):
        make_token(KEY, 1, LIST, "login")
    assert UNSUBSCRIBE == "unsubscribe"


# -- claims (campaign, issue time), confirm tokens and key rotation -----------------------------

from newsletter.core.tokens import CONFIRM, check_token, make_confirm_token  # noqa: E402


def test_campaign_claim_is_signed_and_returned():
    token = make_token(KEY, 42, LIST, claim="17")
    found = check_token(KEY, token, LIST, UNSUBSCRIBE)
    assert found is not None and (found.subject, found.claim) == ("42", "17")
    sid, _claim, mac = token.split(".")
    forged = make_token(KEY, 42, LIST, claim="18").split(".")[1]
    assert check_token(KEY, f"{sid}.{forged}.{mac}", LIST, UNSUBSCRIBE) is None
    assert check_token(KEY, f"{sid}.{mac}", LIST, UNSUBSCRIBE) is None  # claim dropped


def test_confirm_tokens_expire_and_are_not_unsubscribe_tokens():
    token = make_confirm_token(KEY, 5, LIST, issued_at=1_000_000)
    day = 86_400
    assert check_token(KEY, token, LIST, CONFIRM, now=1_000_000 + day, max_age=2 * day).subject == "5"
    assert check_token(KEY, token, LIST, CONFIRM, now=1_000_000 + 3 * day, max_age=2 * day) is None
    assert check_token(KEY, token, LIST, CONFIRM, now=1_000_000 - 3600, max_age=2 * day) is None
    assert check_token(KEY, token, LIST, UNSUBSCRIBE) is None
    # A token without an issue time never passes an expiry check.
    plain = make_token(KEY, 5, LIST, CONFIRM)
    assert check_token(KEY, plain, LIST, CONFIRM, now=1_000_000, max_age=day) is None


def test_rotation_old_keys_verify_new_tokens_use_the_new_key():
    old, new = b"o" * 32, b"n" * 32
    issued_before = make_token(old, 42, LIST)
    assert verify_token([new, old], issued_before, LIST) == "42"
    assert verify_token([new], issued_before, LIST) is None
    assert make_token([new, old], 42, LIST) == make_token(new, 42, LIST)
    with pytest.raises(ValueError):
        make_token([], 42, LIST)

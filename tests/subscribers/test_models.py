"""Normalising what comes in: addresses, names (header safety), codes, times, tags."""
from __future__ import annotations

import string

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.subscribers.models import (InvalidValue, Subscriber, clean_name, email_key,
                                           normalise_country, normalise_email, normalise_language,
                                           normalise_status, normalise_tags, parse_time, split_tags)


@pytest.mark.parametrize("raw, stored", [
    ("Ana.Lopez@Example.ORG", "Ana.Lopez@example.org"),
    ("  padded@example.org \t", "padded@example.org"),
    ("info@bücher.example", "info@xn--bcher-kva.example"),
    ("info@XN--BCHER-KVA.example", "info@xn--bcher-kva.example"),
    ("dömötör@example.org", "dömötör@example.org"),
])
def test_addresses_are_normalised_with_domains_in_ascii(raw: str, stored: str) -> None:
    assert normalise_email(raw) == stored


@pytest.mark.parametrize("raw", ["", "no-at-sign", "a@b", "two@@example.org", "a@localhost",
                                 "dot.@example.org", "a@example..org", "x@foo.test", "Ana <a@example.org>"])
def test_invalid_addresses_are_refused_naming_the_field(raw: str) -> None:
    with pytest.raises(InvalidValue) as info:
        normalise_email(raw)
    assert info.value.field == "email"


def test_duplicates_are_found_case_insensitively() -> None:
    assert email_key(normalise_email("Ana@EXAMPLE.org")) == email_key(normalise_email("ana@example.ORG"))


_LOCAL = st.text(alphabet=string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-.ü", min_size=1, max_size=70)
_LABEL = st.text(alphabet=string.ascii_letters + string.digits + "-", min_size=1, max_size=66)
_DOMAIN = st.lists(_LABEL, min_size=1, max_size=4).map(".".join) | st.sampled_from(
    ["example.org", "a.test", "x.localhost", "b.invalid", "xn--bcher-kva.de", "c.onion", "1.2.3.4"])


@settings(max_examples=400, deadline=None)
@given(local=_LOCAL, domain=_DOMAIN)
def test_the_fast_path_agrees_with_email_validator(local: str, domain: str) -> None:
    """The quick check for common addresses must never accept what email-validator refuses,
    nor store an address differently."""
    address = f"{local}@{domain}"
    try:
        checked = validate_email(address, check_deliverability=False)
        expected = f"{checked.local_part}@{checked.ascii_domain}"
    except EmailNotValidError:
        expected = None
    try:
        got = normalise_email(address)
    except InvalidValue:
        got = None
    assert got == expected


@pytest.mark.parametrize("raw, clean", [
    ("Ana\r\nBcc: victim@example.org", "Ana Bcc: victim@example.org"),
    ("Ana\nLópez", "Ana López"),
    ("  Begoña\tIbáñez  ", "Begoña Ibáñez"),
    ("Ana\u2028López", "Ana López"),
    ("Dömötör Kovács", "Dömötör Kovács"),
    (None, ""),
])
def test_line_breaks_in_names_become_spaces(raw: str | None, clean: str) -> None:
    assert clean_name(raw) == clean


@pytest.mark.parametrize("raw", [
    "=?utf-8?q?Ana=0ABcc:_victim@example.org?=",
    "Ana =?UTF-8?B?QW5hCkJjYzogdmljdGltQGV4YW1wbGUub3Jn?= López",
    "=?iso-8859-1?q?x?=",
])
def test_encoded_words_in_names_are_refused(raw: str) -> None:
    with pytest.raises(InvalidValue, match="encoded-word"):
        clean_name(raw, "first_name")


@pytest.mark.parametrize("raw", ["Ana\x00", "Ana\x1b[31m", "Ana\x7f", "Ana\x85".replace("\x85", "\x9b")])
def test_other_control_characters_in_names_are_refused(raw: str) -> None:
    with pytest.raises(InvalidValue, match="control character"):
        clean_name(raw)


def test_codes_are_normalised() -> None:
    assert normalise_language("EN") == "en"
    assert normalise_language("pt_BR") == "pt-BR"
    assert normalise_language(" ") is None
    assert normalise_country(" de ") == "DE"
    assert normalise_status("Bounced") == "cleaned"
    assert normalise_status("blacklisted") == "blocklisted"
    for bad, fn in [("Elbisch", normalise_language), ("Mittelerde", normalise_country), ("gone", normalise_status)]:
        with pytest.raises(InvalidValue):
            fn(bad)


def test_times_are_stored_in_utc() -> None:
    assert parse_time("2024-03-01 10:00:00", "t") == "2024-03-01T10:00:00Z"
    assert parse_time("2024-03-01T10:00:00+02:00", "t") == "2024-03-01T08:00:00Z"
    assert parse_time("2024-03-01", "t") == "2024-03-01T00:00:00Z"
    assert parse_time("", "t") is None
    with pytest.raises(InvalidValue, match="OPTIN"):
        parse_time("yesterday", "OPTIN_TIME")


def test_tags_are_split_stripped_deduplicated_and_sorted() -> None:
    assert normalise_tags(split_tags("member; leader, member,,  partner ")) == ["leader", "member", "partner"]
    with pytest.raises(InvalidValue):
        normalise_tags(["ok", "bad\x00tag"])
    with pytest.raises(InvalidValue):
        normalise_tags(["x" * 101])


def test_merge_data_has_what_merge_fields_and_headers_need() -> None:
    sub = Subscriber(id=1, email="a@example.org", name="Ana López", first_name="Ana", last_name="López",
                     language="es", country="AR", attributes={"centre": "Rosario"})
    data = sub.merge_data()
    assert data == {"email": "a@example.org", "name": "Ana López", "first_name": "Ana", "last_name": "López",
                    "language": "es", "country": "AR", "attributes": {"centre": "Rosario"}}
    data["attributes"]["centre"] = "changed"
    assert sub.attributes["centre"] == "Rosario"  # a copy: composing cannot change the subscriber

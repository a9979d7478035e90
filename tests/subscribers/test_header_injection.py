"""CVE-2024-6923: Python 3.11.7's email package writes a new header when it folds a display
name holding an encoded-word that decodes to a newline. Names are headers later (To:), so an
import must refuse such names and neutralise raw line breaks."""
from __future__ import annotations

import email
import email.policy
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path

import pytest

from newsletter.subscribers.importers import import_file
from newsletter.subscribers.store import Store

from .corpus import awkward_csv

ATTACKS = [
    "=?utf-8?q?Fritz=0D=0ABcc:_victim@example.org?=",
    "A" * 80 + " =?utf-8?q?x=0ABcc:_victim@example.org?=",
    "=?utf-8?b?RnJpdHoKQmNjOiB2aWN0aW1AZXhhbXBsZS5vcmc=?=",
]


def _header_names(display_name: str, address: str) -> list[str]:
    """Serialise a message the way a sender would, parse it back, list its headers."""
    msg = EmailMessage()
    msg["To"] = Address(display_name=display_name, addr_spec=address)
    msg["Subject"] = "November news"
    raw = msg.as_bytes(policy=email.policy.SMTP)
    return list(email.message_from_bytes(raw, policy=email.policy.default).keys())


def test_every_imported_name_makes_exactly_the_headers_it_should(empty_store: Store, tmp_path: Path) -> None:
    import_file(empty_store, awkward_csv(tmp_path))
    path = tmp_path / "attacks.csv"
    rows = "".join(f'p{i}@example.org,"{name}"\n' for i, name in enumerate(ATTACKS))
    path.write_text("email,name\n" + rows + 'q@example.org,"Quinn\r\nBcc: victim@example.org"\n', encoding="utf-8")
    summary = import_file(empty_store, path)
    assert summary.rejected == len(ATTACKS) and summary.imported == 1
    people = list(empty_store.iter_all())
    assert len(people) == 6
    for sub in people:
        assert _header_names(sub.name, sub.email) == ["To", "Subject"], sub.name


@pytest.mark.parametrize("name", ATTACKS)
def test_the_refused_names_are_real_attacks_on_this_python(name: str) -> None:
    """Shows the guard is needed: unguarded, these names inject a Bcc header here."""
    if "Bcc" not in _header_names(ATTACKS[0], "x@example.org"):
        pytest.skip("this Python is patched against CVE-2024-6923")
    assert "Bcc" in _header_names(name, "fritz@example.com")

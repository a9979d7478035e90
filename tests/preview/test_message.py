"""The previewed message is the composed one: same merge values, escaping, links, headers."""
from __future__ import annotations

import re
from pathlib import Path

from newsletter.compose.composer import Composer, Recipient
from newsletter.core.config import load_workspace
from newsletter.preview.message import PREVIEW_KEY
from newsletter.preview.samples import Sample
from newsletter.preview.site import Site, VariantKey
from newsletter.core.tokens import verify_token

LEADERS = VariantKey("2026-11", "en", ("leaders",))
TRICKY = Sample(7, "ana@example.org", "x", {
    "email": "ana@example.org", "name": "Ana Ruiz\r\nBcc: evil@example.org", "first_name": "<b>Ana</b> & co",
    "attributes": {"centre": "Casa\r\nBcc: evil@example.org"}})


def test_values_are_escaped_in_html_and_raw_in_text(sample_ws: Path) -> None:
    msg = Site(sample_ws).message(LEADERS, TRICKY)
    assert "Dear &lt;b&gt;Ana&lt;/b&gt; &amp; co," in msg.html and "<b>Ana</b>" not in msg.html
    assert "Dear <b>Ana</b> & co," in msg.text
    assert "Casa Bcc: evil@example.org" in msg.text  # a line break in a value is only a space


def test_nobody_gets_the_defaults(sample_ws: Path) -> None:
    msg = Site(sample_ws).message(LEADERS, None)
    assert "Dear friends," in msg.html and "annual report for your Mother Centre" in msg.text
    assert msg.header("To") == "reader@example.org"


def test_headers_are_the_composers_and_cannot_be_injected(sample_ws: Path) -> None:
    site = Site(sample_ws)
    msg = site.message(LEADERS, TRICKY)
    ws = load_workspace(sample_ws)
    variant = site.variant(LEADERS)
    composed = Composer(variant, ws.settings, PREVIEW_KEY, clock=lambda: None, campaign="x")  # type: ignore[arg-type]
    recipient = Recipient(7, "ana@example.org", TRICKY.data["name"], TRICKY.data, variant.key)
    assert msg.subject == composed.subject_for(composed.fields_for(recipient))
    assert msg.header("To") == '"Ana Ruiz Bcc: evil@example.org" <ana@example.org>'
    assert "Bcc" not in [name for name, _ in msg.decoded]
    names = [line.split(":", 1)[0] for line in msg.headers.splitlines() if line and not line[0].isspace()]
    assert names[:3] == ["Date", "From", "To"] and "List-Unsubscribe-Post" in names


def test_preview_tokens_never_work_with_the_real_key(sample_ws: Path) -> None:
    msg = Site(sample_ws).message(LEADERS, TRICKY)
    token = re.search(r"token=([\w.-]+)", msg.header("List-Unsubscribe")).group(1)
    list_id = load_workspace(sample_ws).settings.list_id
    assert verify_token(PREVIEW_KEY, token, list_id) == "7"
    assert verify_token(b"the workspace's own secret key", token, list_id) is None
    assert not (sample_ws / "subscribers" / "secret.key").exists()


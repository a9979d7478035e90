"""Sample subscribers for the merge fields: the store first, else subscribers/sample.csv."""
from __future__ import annotations

from pathlib import Path

from newsletter.core.config import load_workspace
from newsletter.preview import PreviewServer
from newsletter.preview.site import Site
from newsletter.subscribers.models import Subscriber
from newsletter.subscribers.store import Store

from .helpers import raw_get


def test_without_a_store_the_sample_file_is_used_per_segment(sample_ws: Path) -> None:
    site = Site(sample_ws)
    everyone, source = site.samples("all")
    leaders, _ = site.samples("leaders")
    assert source == "subscribers/sample.csv"
    assert 0 < len(leaders) < len(everyone)
    assert "amelia.hartley@example.org" in {s.key for s in leaders}
    assert "domotor.kovacs@example.net" not in {s.key for s in leaders}  # a member, not a leader
    amelia = next(s for s in leaders if s.key == "amelia.hartley@example.org")
    assert amelia.label == "Amelia Hartley <amelia.hartley@example.org> (en)"
    assert amelia.data["attributes"]["centre"] == "Riverside Family Centre"
    assert not (sample_ws / "subscribers" / "newsletter.sqlite3").exists(), "previewing never creates a database"


def test_a_store_with_subscribers_is_used_instead(sample_ws: Path) -> None:
    with Store.open(load_workspace(sample_ws)) as store:
        store.add(Subscriber(None, "zoe@example.org", first_name="Zoë", tags=["leader"], language="de"))
        store.add(Subscriber(None, "max@example.org", first_name="Max"))
    site = Site(sample_ws)
    leaders, source = site.samples("leaders")
    assert source == "your subscriber list"
    assert [s.key for s in leaders] == ["zoe@example.org"]
    assert [s.key for s in site.samples("all")[0]] == ["zoe@example.org", "max@example.org"]


def test_the_chosen_subscriber_fills_the_merge_fields(sample_ws: Path) -> None:
    with PreviewServer(sample_ws, "127.0.0.1", 0, watch=False) as server:
        nobody = raw_get(server, "/e/2026-11/email?lang=en").text
        amelia = raw_get(server, "/e/2026-11/email?lang=en&segment=leaders&subscriber=amelia.hartley%40example.org").text
        page = raw_get(server, "/e/2026-11/?lang=en&segment=leaders&subscriber=amelia.hartley%40example.org").text
    assert "Dear friends," in nobody and "Dear Amelia," not in nobody
    assert "Dear Amelia," in amelia and "Riverside Family Centre" in amelia
    assert '<option value="amelia.hartley@example.org" selected>' in page

"""Shared by the delivery tests and by campaign_driver.py (which runs in a subprocess):
the sample settings, a small rendered variant and recipients for it."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from newsletter.compose.composer import Composer, Recipient
from newsletter.core.config import Settings, load_settings
from newsletter.content.merge import MergeField, token
from newsletter.render.variant import RenderedVariant

ROOT = Path(__file__).resolve().parents[2]
USER, PASSWORD = "sender@mcin.example.org", "s3cret pässword"
KEY = b"delivery-tests-secret-key"
FIELDS = [MergeField("first_name", "friends", 0, 0), MergeField("unsubscribe_url", "", 0, 0)]


def sample_settings() -> Settings:
    return load_settings(ROOT / "newsletter.yaml")


def small_variant(language: str = "en") -> RenderedVariant:
    html = (f"<html><body><p>Dear {token(0)},</p>\n<p>News from the network.</p>\n"
            f'<p><a href="{token(1)}">Unsubscribe</a></p></body></html>\n')
    text = f"Dear {token(0)},\n\nNews from the network.\n\nUnsubscribe: {token(1)}\n"
    return RenderedVariant("2026-11", language, (), f"November news for {token(0)}", "", html, text,
                           {token(i): f for i, f in enumerate(FIELDS)})


def composer_for(settings: Settings, variant: RenderedVariant | None = None, campaign: str = "1") -> Composer:
    return Composer(variant or small_variant(), settings, KEY, campaign=campaign,
                    clock=lambda: datetime(2026, 11, 3, 9, 0, tzinfo=timezone.utc))


def make_recipients(count: int, variant: str = "en", start: int = 1) -> list[Recipient]:
    return [Recipient(i, f"reader{i}@example.org", f"Reader {i}", {"first_name": f"Reader{i}"}, variant)
            for i in range(start, start + count)]

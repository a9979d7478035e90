"""The preview marks stale translations on the edition page of their language only."""
from __future__ import annotations

from pathlib import Path

from newsletter.content.translations import fingerprint
from newsletter.preview import PreviewServer

from .helpers import raw_get


def test_stale_translations_are_marked_in_their_language_only(preview: PreviewServer, sample_ws: Path) -> None:
    folder = sample_ws / "issues" / "2026-11" / "translations"
    folder.mkdir()
    (folder / "de.yaml").write_text(
        "subject:\n  text: Neu im November\n"
        f"  source: {fingerprint('an older English subject')}\n"
        "preheader:\n  text: Drei Termine\n"
        f"  source: {fingerprint('Three dates for your calendar and stories from Mother Centres in four countries.')}\n",
        encoding="utf-8")
    german = raw_get(preview, "/e/2026-11/?lang=de").text
    assert "Stale translation (1)" in german and ": subject" in german
    assert "preheader" not in german.split("Stale translation", 1)[1].split("</p>", 1)[0]
    assert "Stale translation" not in raw_get(preview, "/e/2026-11/?lang=es").text

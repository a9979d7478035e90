"""The preview's cache: what a change forgets, and failures kept until the file changes."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from newsletter.core.errors import ValidationFailed
from newsletter.preview.site import Site, VariantKey

EN = VariantKey("2026-11", "en", ())


def test_a_change_in_one_edition_keeps_the_others(sample_ws: Path) -> None:
    site = Site(sample_ws)
    october, november = site.edition("2026-10"), site.edition("2026-11")
    site.invalidate({sample_ws / "issues" / "2026-10" / "edition.yaml"})
    assert site.edition("2026-11") is november
    assert site.edition("2026-10") is not october


@pytest.mark.parametrize("changed", ["newsletter.yaml", "subscribers/segments.yaml", "templates/email.mjml.j2",
                                     "issues/2026-12"])
def test_other_changes_forget_everything(sample_ws: Path, changed: str) -> None:
    site = Site(sample_ws)
    november, variant = site.edition("2026-11"), site.variant(EN)
    site.invalidate({sample_ws / changed})
    assert site.edition("2026-11") is not november and site.variant(EN) is not variant


def test_a_failure_is_kept_until_its_file_changes(sample_ws: Path) -> None:
    path = sample_ws / "issues" / "2026-11" / "edition.yaml"
    good = path.read_text(encoding="utf-8")
    path.write_text(good + "oops: 1\n", encoding="utf-8")
    site = Site(sample_ws)
    with pytest.raises(ValidationFailed):
        site.variant(EN)
    path.write_text(good, encoding="utf-8")
    with pytest.raises(ValidationFailed):  # not re-read on every request
        site.variant(EN)
    site.invalidate({path})
    assert "Learning from each other" in site.variant(EN).html


def test_warm_renders_again_the_variants_looked_at(sample_ws: Path) -> None:
    site = Site(sample_ws)
    site.message(VariantKey("2026-11", "de", ("leaders",)), None)
    path = sample_ws / "issues" / "2026-11" / "edition.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("Voneinander lernen", "Gemeinsam lernen"), encoding="utf-8")
    site.invalidate({path})
    site.warm()
    assert site.last_refresh_seconds is not None
    cached = site._cache[("rendering", VariantKey("2026-11", "de", ("leaders",)))]
    assert "Gemeinsam lernen" in cached.variant.html


def test_a_slow_build_does_not_hold_up_a_built_value(sample_ws: Path) -> None:
    site = Site(sample_ws)
    site.variant(EN)
    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(5)
        return "done"

    worker = threading.Thread(target=site._cached, args=(("slow",), slow))
    worker.start()
    started.wait(5)
    try:
        assert site.variant(EN).language == "en"  # answered while the slow build runs
    finally:
        release.set()
        worker.join()


def test_a_value_built_across_a_change_is_not_kept(sample_ws: Path) -> None:
    site = Site(sample_ws)
    calls = []

    def build() -> int:
        calls.append(1)
        site.invalidate({sample_ws / "newsletter.yaml"})  # a save lands mid-build
        return len(calls)

    assert site._cached(("x",), build) == 1
    assert site._cached(("x",), lambda: 99) == 99

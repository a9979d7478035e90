"""`newsletter screenshot`: PNGs of each variant through the system's Chromium."""
from __future__ import annotations

import base64
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from playwright.sync_api import Browser

from newsletter.cli import main

ROOT = Path(__file__).resolve().parents[2]


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


@pytest.mark.browser
def test_screenshot_writes_pngs_of_each_variant_and_width(browser: Browser, sample_ws: Path, tmp_path: Path) -> None:
    out = tmp_path / "shots"
    # A separate process: the command starts its own Playwright, as an editor's run does.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "newsletter", "-C", str(sample_ws), "screenshot", "2026-11",
         "--lang", "en", "--width", "375,600", "-o", str(out)],
        capture_output=True, text=True, env=env, timeout=240)
    assert result.returncode == 0, result.stderr
    expected = {f"2026-11-{variant}-{width}.png" for variant in ("en", "en+leaders") for width in (375, 600)}
    assert {p.name for p in out.iterdir()} == expected
    page = browser.new_page()
    try:
        for name in sorted(expected):
            path = out / name
            width, height = png_size(path)
            assert width == int(name.rsplit("-", 1)[1].removesuffix(".png"))
            assert height > 1500, "the whole email, not just the first screen"
            assert path.stat().st_size > 20_000
            # And Chromium itself decodes it to the same size.
            data = base64.b64encode(path.read_bytes()).decode()
            page.set_content(f'<img id="shot" src="data:image/png;base64,{data}">')
            page.wait_for_function("document.getElementById('shot').complete")
            assert page.eval_on_selector("#shot", "i => [i.naturalWidth, i.naturalHeight]") == [width, height]
    finally:
        page.close()
    shown = dict(zip(("375", "600"), (png_size(out / "2026-11-en+leaders-375.png"), png_size(out / "2026-11-en-375.png"))))
    assert shown["375"][1] > shown["600"][1], "the leaders' variant has one more block"
    assert "Wrote " in result.stdout


def run(ws: Path, *args: str, **env: str):
    return CliRunner().invoke(main, ["-C", str(ws), "screenshot", *args], env=env)


def test_missing_chromium_is_a_clear_error(sample_ws: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("NEWSLETTER_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no chromium on it
    result = run(sample_ws, "2026-11", "-o", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "Chromium was not found" in result.output and "apt install chromium" in result.output
    assert not (tmp_path / "out").exists()


def test_configured_chromium_must_exist(sample_ws: Path, tmp_path: Path) -> None:
    result = run(sample_ws, "2026-11", NEWSLETTER_CHROMIUM=str(tmp_path / "nope"))
    assert result.exit_code == 1
    assert f"NEWSLETTER_CHROMIUM={tmp_path / 'nope'} is not an executable file" in result.output


def test_unknown_language_and_bad_widths_are_refused(sample_ws: Path) -> None:
    result = run(sample_ws, "2026-11", "--lang", "fr")
    assert result.exit_code == 1 and "edition 2026-11 has no language 'fr'; its languages: en, de, es" in result.output
    result = run(sample_ws, "2026-11", "--width", "375,abc")
    assert result.exit_code == 2 and "expected widths in pixels like 375,600" in result.output


def test_a_broken_edition_is_reported_before_any_browser_starts(sample_ws: Path, tmp_path: Path) -> None:
    path = sample_ws / "issues" / "2026-11" / "edition.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("number: 14", "number: fourteen"), encoding="utf-8")
    result = run(sample_ws, "2026-11", NEWSLETTER_CHROMIUM=str(tmp_path / "never-started"))
    assert result.exit_code == 1
    assert "issues/2026-11/edition.yaml:3:1: number: expected a valid integer" in result.output

"""`newsletter demo` (what `make demo` runs): the main job end to end on the outbox."""
from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from email import policy
from email.parser import BytesParser
from pathlib import Path

from click.testing import CliRunner

from newsletter.cli import main


def test_demo_runs_the_main_job_and_is_safe_to_repeat(sample_ws: Path) -> None:
    first = CliRunner().invoke(main, ["-C", str(sample_ws), "demo"])
    assert first.exit_code == 0, first.output
    messages = sorted((sample_ws / "outbox").glob("*.eml"))
    subscribed = sum(1 for line in (sample_ws / "subscribers" / "sample.csv").read_text().splitlines()[1:]
                     if ",unsubscribed" not in line and ",cleaned" not in line)
    assert len(messages) == subscribed
    assert f"5. sent through the outbox adapter: {subscribed} new message(s)" in first.output
    assert (sample_ws / "build" / "2026-11" / "manifest.json").is_file()
    assert "6. published 2026-11 to site/" in first.output and "site/index.html" in first.output
    assert (sample_ws / "site" / "2026-11" / "en.html").is_file() and (sample_ws / "site" / "feed.en.xml").is_file()
    parsed = BytesParser(policy=policy.strict).parsebytes(messages[0].read_bytes())
    assert parsed.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]

    second = CliRunner().invoke(main, ["-C", str(sample_ws), "demo"])
    assert second.exit_code == 0, second.output
    assert "0 new message(s)" in second.output
    assert "0 file(s) written" in second.output
    assert len(list((sample_ws / "outbox").glob("*.eml"))) == subscribed


def test_the_readme_says_how_to_run_newsletter_after_make_demo() -> None:
    """`make demo` puts the command into .venv/, not on the PATH: the README must say how to
    call it, and the commands it names must be the ones `make` and pyproject.toml create."""
    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    makefile = (root / "Makefile").read_text(encoding="utf-8")
    pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    venv = re.search(r"^VENV\s*:=\s*(\S+)", makefile, re.M).group(1)  # type: ignore[union-attr]
    assert "newsletter" in pyproject["project"]["scripts"]
    assert f". {venv}/bin/activate" in readme and f"{venv}/bin/newsletter check" in readme
    command = root / venv / "bin" / "newsletter"
    if Path(sys.prefix).resolve() == (root / venv).resolve():  # the suite runs from `make test`'s venv
        done = subprocess.run([str(command), "--help"], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and "Usage: newsletter" in done.stdout


def test_demo_says_how_to_try_serve(sample_ws) -> None:
    from newsletter.core.config import load_workspace
    from newsletter.demo import serve_hint
    lines = serve_hint(load_workspace(sample_ws))
    assert "newsletter serve" in lines[0] and "http://127.0.0.1:8080/newsletter/signup" in lines[0]
    assert "replace https://mcin.example.org with http://127.0.0.1:8080" in lines[0]
    assert "/newsletter/unsubscribe?token=" in lines[1]

"""Command look-up: running one command imports its own module only; every command is still
found and listed."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from newsletter.cli import main

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import json, sys
from newsletter.cli import main
try:
    main(sys.argv[1:], prog_name="newsletter")
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)))
"""
# What only sending, importing or previewing needs; a build that loads them starts slower.
NOT_FOR_BUILD = ["email_validator", "idna", "smtplib", "http.server", "watchfiles", "newsletter.delivery"]


def modules_loaded(*args: str) -> list[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True,
                         env=env, check=True, timeout=120).stdout
    return json.loads(out.strip().splitlines()[-1])


def command_modules_loaded(*args: str) -> list[str]:
    return [m for m in modules_loaded(*args)
            if m.startswith("newsletter.commands.") and not m.startswith("newsletter.commands._")]


def test_running_a_command_imports_only_its_module() -> None:
    assert command_modules_loaded("build", "--help") == ["newsletter.commands.build"]


def test_unknown_command_searches_every_module_and_fails_clearly() -> None:
    loaded = command_modules_loaded("biuld")
    modules = sorted(p.stem for p in (ROOT / "newsletter" / "commands").glob("*.py") if not p.stem.startswith("_"))
    assert loaded == [f"newsletter.commands.{m}" for m in modules]
    result = CliRunner().invoke(main, ["biuld"])
    assert result.exit_code == 2 and "No such command 'biuld'" in result.output


def test_help_lists_every_command_module() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for path in (ROOT / "newsletter" / "commands").glob("*.py"):
        if not path.stem.startswith("_"):
            assert f"  {path.stem} " in result.output, path.stem


def test_a_build_loads_nothing_that_only_sending_or_importing_needs(sample_ws: Path, tmp_path: Path) -> None:
    loaded = modules_loaded("-C", str(sample_ws), "build", "2026-11", "-o", str(tmp_path / "out"))
    assert "newsletter.publish.build" in loaded  # it did build
    assert [m for m in NOT_FOR_BUILD if m in loaded] == []


STAGES = ("newsletter.content", "newsletter.render", "newsletter.check", "newsletter.compose",
          "newsletter.campaign", "newsletter.delivery", "newsletter.subscribers", "newsletter.preview",
          "newsletter.publish", "newsletter.translate", "newsletter.feedback", "pydantic")


def test_help_of_a_command_loads_no_stage_and_no_pydantic() -> None:
    """Commands import their stage inside the command function: asking a command for its
    help (or a wrong option) costs click's start-up only. send, campaigns and subscribers
    still name their choices from their stage's modules."""
    lazy = ["build", "check", "new", "schema", "screenshot", "segments", "preview", "dkim", "feedback"]
    for command in lazy:
        loaded = modules_loaded(command, "--help")
        assert [m for m in loaded if m.startswith(STAGES)] == [], command

"""Shared fixtures. Tests that need an outside tool (Chromium, the MJML validator) skip with
a reason on a developer machine without it, but fail in CI (NEWSLETTER_REQUIRE_TOOLS=1 or
CI=true), where .ci/run installs the tools: a browser test must never silently skip there."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.support.workspaces import EXAMPLE_EDITIONS, SAMPLE_EDITIONS, copy_workspace

ROOT = Path(__file__).resolve().parent.parent

# Property tests judge correctness, not speed: a stall on a loaded 2-core CI machine must not
# fail them (hypothesis's default is a 200 ms deadline per example and a "too slow" check).
settings.register_profile("newsletter", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("newsletter")

pytest_plugins = ["tests.support.smtp_servers", "tests.support.samples", "tests.support.aws",
                  "tests.support.mailservers"]
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]


def tools_required() -> bool:
    return os.environ.get("NEWSLETTER_REQUIRE_TOOLS") == "1" or os.environ.get("CI") == "true"


def require_tool(available: bool, what: str) -> None:
    if available:
        return
    if tools_required():
        pytest.fail(f"{what} is required in CI but missing (.ci/run installs it)")
    pytest.skip(f"{what} not installed")


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium (the system's, driven by Playwright; never downloaded)."""
    exe = chromium_path()
    require_tool(exe is not None, "Chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_FLAGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def mjml_bin() -> Path:
    """The official MJML command-line tool (tools/node_modules, installed by `make test`)."""
    exe = ROOT / "tools" / "node_modules" / ".bin" / "mjml"
    require_tool(exe.exists() and shutil.which("node") is not None, "the MJML validator (npm mjml)")
    return exe


@pytest.fixture
def sample_ws(tmp_path: Path) -> Path:
    """A copy of the repository's sample workspace (the international network) with the
    editions SAMPLE_EDITIONS."""
    return copy_workspace(ROOT, tmp_path / "ws", SAMPLE_EDITIONS)


@pytest.fixture
def example_ws(tmp_path: Path) -> Path:
    """A copy of examples/namc, the national association's monthly eNews, with the editions
    EXAMPLE_EDITIONS."""
    return copy_workspace(ROOT / "examples" / "namc", tmp_path / "namc", EXAMPLE_EDITIONS)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true",
                     help="Rewrite the golden files under tests/golden/ from the current output.")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))

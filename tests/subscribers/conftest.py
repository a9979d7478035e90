"""Fixtures for the subscriber tests: stores with a fixed clock, and a CLI runner."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Callable, Iterator

import pytest
from click.testing import CliRunner, Result

from newsletter.cli import main
from newsletter.core.config import load_workspace
from newsletter.subscribers.store import Store

FIXED_NOW = dt.datetime(2026, 11, 1, 9, 30, tzinfo=dt.timezone.utc)


def fixed_clock() -> dt.datetime:
    return FIXED_NOW


@pytest.fixture
def empty_store(tmp_path: Path) -> Iterator[Store]:
    """An empty store in a temporary file, without workspace segments, clock at FIXED_NOW."""
    with Store(tmp_path / "test.sqlite3", clock=fixed_clock) as store:
        yield store


@pytest.fixture
def sample_store(sample_ws: Path) -> Iterator[Store]:
    """The sample workspace's (empty) store, with its segments.yaml."""
    with Store.open(load_workspace(sample_ws), clock=fixed_clock) as store:
        yield store


@pytest.fixture
def cli(sample_ws: Path) -> Callable[..., Result]:
    """Run `newsletter -C <copy of the sample workspace> ...`."""
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Result:
        return runner.invoke(main, ["-C", str(sample_ws), *args], input=input, catch_exceptions=False)

    return run


def write_bytes(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path

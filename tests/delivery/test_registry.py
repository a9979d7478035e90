"""The adapter registry: one table of names (core.adapters) that settings validate against and
delivery resolves, each name to its module's from_workspace factory."""
from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from newsletter.core.adapters import ADAPTERS
from newsletter.core.config import load_workspace
from newsletter.core.errors import ConfigError
from newsletter.delivery import get_adapter
from newsletter.delivery.base import Adapter
from newsletter.delivery.outbox import OutboxAdapter


@pytest.mark.parametrize("name", sorted(ADAPTERS))
def test_every_name_resolves_to_a_factory_in_its_own_module(name: str) -> None:
    module_name, _, factory = ADAPTERS[name].partition(":")
    assert module_name == f"newsletter.delivery.{name}"
    assert callable(getattr(importlib.import_module(module_name), factory))


def test_get_adapter_builds_the_named_adapter_from_the_workspace(sample_ws: Path) -> None:
    ws = load_workspace(sample_ws)
    adapter = get_adapter("outbox", ws)
    assert isinstance(adapter, OutboxAdapter) and isinstance(adapter, Adapter)
    assert adapter.directory == ws.outbox_dir
    assert get_adapter("outbox", ws, directory=sample_ws / "elsewhere").directory == sample_ws / "elsewhere"


def test_an_unknown_name_suggests_the_closest(sample_ws: Path) -> None:
    with pytest.raises(ConfigError, match="unknown adapter 'outbx'; did you mean 'outbox'"):
        get_adapter("outbx", load_workspace(sample_ws))

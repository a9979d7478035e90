"""A preview server on a free port of 127.0.0.1, serving a throw-away copy of the sample
workspace; stopped after each test."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from newsletter.preview import PreviewServer


@pytest.fixture
def preview(sample_ws: Path) -> Iterator[PreviewServer]:
    """A running preview (with live reload) of a copy of the sample workspace."""
    server = PreviewServer(sample_ws, "127.0.0.1", 0).start()
    try:
        yield server
    finally:
        server.stop()

"""Fixtures for the rendering tests: the sample editions (named in tests/support/workspaces.py,
read from fixture copies of their workspaces), a test workspace with every block type, and one build of
each, made once per session and shared by the read-only tests."""
from __future__ import annotations

import atexit
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from newsletter.core.config import Workspace, load_workspace
from newsletter.content.loader import LoadedEdition, load_edition
from newsletter.publish.build import BuildResult, build_edition
from tests.support.workspaces import SAMPLE_WORKSPACES, copy_workspace

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "render" / "data"
KITCHEN = DATA / "kitchen"
GOLDEN = ROOT / "tests" / "golden"


@dataclass(frozen=True)
class Sample:
    """One sample edition: which workspace (label) and which edition. ``root`` is the
    workspace the tests read: for the repository's sample workspaces a fixture copy holding
    only their named editions (see tests/support/workspaces.py)."""

    label: str
    source: Path
    edition: str

    @property
    def id(self) -> str:
        return f"{self.label}/{self.edition}"

    @property
    def root(self) -> Path:
        return fixture_workspace(self.label) if self.label in SAMPLE_WORKSPACES else self.source

    def ws(self) -> Workspace:
        return load_workspace(self.root)

    def loaded(self) -> LoadedEdition:
        ws = self.ws()
        return load_edition(ws, self.edition)


_COPIES: dict[str, Path] = {}


def fixture_workspace(label: str) -> Path:
    """The fixture copy of sample workspace ``label``, made on first use (one per test
    process) and removed when the process ends. Read-only for the tests that share it."""
    if label not in _COPIES:
        base = Path(tempfile.mkdtemp(prefix="newsletter-samples-"))
        atexit.register(shutil.rmtree, base, True)
        source, editions = SAMPLE_WORKSPACES[label]
        _COPIES[label] = copy_workspace(source, base / label, editions)
    return _COPIES[label]


def sample_editions() -> list[Sample]:
    """The named sample editions (never "whatever is in the folder": an edition an editor
    adds to the repository's workspace is not a test case)."""
    return [Sample(label, source, edition) for label, (source, editions) in SAMPLE_WORKSPACES.items()
            for edition in editions]


SAMPLES = sample_editions()
KITCHEN_SAMPLE = Sample("kitchen", KITCHEN, "2099-01")
# The sample editions plus the test edition that uses every block type and option.
ALL = SAMPLES + [KITCHEN_SAMPLE]


class Builds:
    """Each sample edition built once, when first asked for (so that one broken sample
    fails its own tests only): builds[sample.id] -> BuildResult."""

    def __init__(self, out: Path):
        self.out = out
        self._done: dict[str, BuildResult] = {}

    def __getitem__(self, sample_id: str) -> BuildResult:
        if sample_id not in self._done:
            sample = next(s for s in ALL if s.id == sample_id)
            self._done[sample_id] = build_edition(sample.ws(), sample.edition, self.out / sample.id)
        return self._done[sample_id]


@pytest.fixture(scope="session")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Builds:
    """Every sample edition (and the kitchen-sink edition), built once per session."""
    return Builds(tmp_path_factory.mktemp("builds"))


@pytest.fixture
def kitchen_ws(tmp_path: Path) -> Path:
    """A copy of the test workspace with every block type, an RTL language and a local logo."""
    return Path(shutil.copytree(KITCHEN, tmp_path / "kitchen"))

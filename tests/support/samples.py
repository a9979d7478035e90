"""Fixtures for the rendering tests: the sample editions (whatever exists in the repository's
root workspace and under examples/), a test workspace with every block type, and one build of
each, made once per session and shared by the read-only tests."""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from newsletter.core.config import Workspace, load_workspace
from newsletter.content.loader import LoadedEdition, edition_names, load_edition
from newsletter.publish.build import BuildResult, build_edition

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "render" / "data"
KITCHEN = DATA / "kitchen"
GOLDEN = ROOT / "tests" / "golden"


@dataclass(frozen=True)
class Sample:
    """One sample edition: which workspace (label) and which edition."""

    label: str
    root: Path
    edition: str

    @property
    def id(self) -> str:
        return f"{self.label}/{self.edition}"

    def ws(self) -> Workspace:
        return load_workspace(self.root)

    def loaded(self) -> LoadedEdition:
        ws = self.ws()
        return load_edition(ws, self.edition)


def sample_workspaces() -> list[tuple[str, Path]]:
    found = [("root", ROOT)]
    examples = ROOT / "examples"
    if examples.is_dir():
        found += [(p.name, p) for p in sorted(examples.iterdir()) if (p / "newsletter.yaml").is_file()]
    return found


def sample_editions() -> list[Sample]:
    out = []
    for label, root in sample_workspaces():
        ws = load_workspace(root)
        out += [Sample(label, root, name) for name in edition_names(ws)]
    return out


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

"""The official MJML validator (npm `mjml`, strict level) over every block partial rendered
alone and over every sample edition's email.mjml. MRML (mjml-python) does not validate, so
this is what catches an unknown tag, a misplaced element or a bad attribute in the theme.

All files go to the validator in one call (node starts once, about 0.7 s). A deliberately
broken control file goes with them, to prove that the check can fail.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from newsletter.content.model import BLOCK_TYPES
from newsletter.render import render_block_mjml

from tests.support.samples import ALL, Sample

pytestmark = pytest.mark.mjml
CONTROL = """<mjml>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-text padding="lots">A bad attribute value</mj-text>
        <mj-unknown>An unknown element</mj-unknown>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>
"""
# "Line 5 of /tmp/.../x.mjml (mj-text) — Attribute padding has invalid value: ..."
REPORT = re.compile(r"^Line (\d+) of (\S+) \(([^)]*)\) [—-] (.*)$", re.M)


def partial_files(sample: Sample, folder: Path) -> list[Path]:
    """Every block of an edition rendered alone (in its default language)."""
    ws, loaded = sample.ws(), sample.loaded()
    files = []
    for index, block in enumerate(loaded.edition.blocks):
        path = folder / sample.label / sample.edition / f"block{index:02d}-{block.type}.mjml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_block_mjml(ws, loaded, index, loaded.default_language), encoding="utf-8")
        files.append(path)
    return files


@pytest.fixture(scope="session")
def validation(mjml_bin: Path, builds, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One validator run over the control file and every sample's partials and MJML."""
    folder = tmp_path_factory.mktemp("mjml")
    control = folder / "control.mjml"
    control.write_text(CONTROL, encoding="utf-8")
    files: dict[str, dict[str, list[Path]]] = {}
    failed: dict[str, BaseException] = {}
    for sample in ALL:
        try:
            build = builds[sample.id]
            files[sample.id] = {
                "partials": partial_files(sample, folder / "partials"),
                "editions": [build.out_dir / v["files"]["mjml"] for v in build.manifest["variants"]],
            }
        except Exception as exc:  # reported by that sample's own test
            failed[sample.id] = exc
    every = [control] + [p for f in files.values() for group in f.values() for p in group]
    proc = subprocess.run(
        [str(mjml_bin), "--validate", *map(str, every), "--config.validationLevel", "strict"],
        capture_output=True, text=True, timeout=300,
    )
    output = proc.stdout + proc.stderr
    reports: dict[str, list[str]] = {}
    for line, path, tag, message in REPORT.findall(output):
        reports.setdefault(str(Path(path).resolve()), []).append(f"line {line} ({tag}): {message}")
    return {"control": str(control.resolve()), "files": files, "failed": failed,
            "reports": reports, "output": output, "returncode": proc.returncode}


def problems(validation: dict, paths: list[Path]) -> dict[str, list[str]]:
    return {str(p): validation["reports"][str(p.resolve())] for p in paths
            if str(p.resolve()) in validation["reports"]}


def test_the_validator_catches_a_broken_file(validation: dict) -> None:
    found = validation["reports"].get(validation["control"], [])
    assert any("padding" in p for p in found), validation["output"]
    assert any("mj-unknown" in p for p in found), validation["output"]
    assert validation["returncode"] != 0


def test_the_partials_cover_every_block_type(validation: dict) -> None:
    types = {p.stem.split("-", 1)[1] for f in validation["files"].values() for p in f["partials"]}
    assert types == set(BLOCK_TYPES)


@pytest.mark.parametrize("sample", ALL, ids=lambda s: s.id)
def test_block_partials_rendered_alone_are_valid(sample: Sample, validation: dict) -> None:
    if sample.id in validation["failed"]:
        raise validation["failed"][sample.id]
    assert problems(validation, validation["files"][sample.id]["partials"]) == {}


@pytest.mark.parametrize("sample", ALL, ids=lambda s: s.id)
def test_every_variant_email_mjml_is_valid(sample: Sample, validation: dict) -> None:
    if sample.id in validation["failed"]:
        raise validation["failed"][sample.id]
    editions = validation["files"][sample.id]["editions"]
    assert editions
    assert problems(validation, editions) == {}

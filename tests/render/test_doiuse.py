"""Issue 18: doiuse-email (tools/, caniemail data) over every variant of the sample editions
and the kitchen-sink edition. Each client family we target (Gmail, Outlook, Yahoo, Apple Mail)
may meet only the unsupported feature kinds listed in tests/render/data/doiuse_baseline.json;
a new kind fails the test, naming the variant, the family and the feature. The baseline is a
ratchet: a kind that no variant uses any more must come off it, so it only goes down.

Why each remaining kind is there, and what was removed, is in docs/theme.md. After a deliberate
change, rewrite the baseline with ``pytest tests/render/test_doiuse.py --update-golden`` and
review the diff.

All files go to node in one call (about 1 s for the whole set).
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, require_tool
from tests.support.samples import ALL

pytestmark = pytest.mark.mjml
REPORTER = ROOT / "tools" / "doiuse_report.mjs"
BASELINE = ROOT / "tests" / "render" / "data" / "doiuse_baseline.json"
FAMILIES = ("gmail", "outlook", "yahoo", "apple-mail")
# A control file with three features no theme should use: flexbox (not in Outlook for Windows),
# `position` (not in Gmail) and <form> (not in Yahoo).
CONTROL = """<!DOCTYPE html><html lang="en"><head><title>x</title></head><body>
<div style="display:flex;position:absolute"><form action="https://example.org/"><p>x</p></form></div>
</body></html>"""

Report = dict[str, dict[str, dict[str, list[str]]]]   # file -> family -> feature -> clients


def run_doiuse(paths: list[Path]) -> Report:
    node = shutil.which("node")
    require_tool(node is not None and (REPORTER.parent / "node_modules" / "doiuse-email").is_dir(),
                 "doiuse-email (tools/node_modules, `make node`)")
    proc = subprocess.run([node, str(REPORTER), *map(str, paths)], capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="session")
def doiuse(builds, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """label -> that variant's findings, for every variant of every edition in ALL, plus the
    control file under the label "control"."""
    control = tmp_path_factory.mktemp("doiuse") / "control.html"
    control.write_text(CONTROL, encoding="utf-8")
    labels = {str(control): "control"}
    for sample in ALL:
        build = builds[sample.id]
        for v in build.manifest["variants"]:
            labels[str(build.out_dir / v["files"]["html"])] = f"{sample.id}:{v['key']}"
    report = run_doiuse([Path(p) for p in labels])
    return {labels[path]: found for path, found in report.items()}


def kinds(found: dict, labels) -> dict[str, dict[str, list[str]]]:
    """family -> feature -> clients over the given variants (sorted, for a stable file)."""
    out: dict[str, dict[str, set[str]]] = {family: {} for family in FAMILIES}
    for label in labels:
        for family, features in found[label].items():
            for feature, clients in features.items():
                out.setdefault(family, {}).setdefault(feature, set()).update(clients)
    return {family: {f: sorted(c) for f, c in sorted(features.items())} for family, features in out.items()}


def beyond(found: dict, baseline: dict) -> list[str]:
    """Every (variant, family, feature) not in the baseline, as sentences."""
    new = []
    for label, families in sorted(found.items()):
        for family, features in sorted(families.items()):
            for feature, clients in sorted(features.items()):
                if feature not in baseline.get(family, {}):
                    new.append(f"{label}: `{feature}` is not supported by {family} ({', '.join(clients)})")
    return new


def test_no_variant_uses_a_feature_beyond_the_baseline(doiuse: dict, update_golden: bool) -> None:
    variants = [label for label in doiuse if label != "control"]
    assert len(variants) > len(ALL)
    measured = kinds(doiuse, variants)
    if update_golden:
        BASELINE.write_text(json.dumps(measured, indent=2) + "\n", encoding="utf-8")
    baseline = json.loads(BASELINE.read_text(encoding="utf-8"))
    assert set(FAMILIES) <= set(baseline)
    new = beyond({label: doiuse[label] for label in variants}, baseline)
    assert new == [], ("features beyond tests/render/data/doiuse_baseline.json; if one is deliberate, say why "
                       "in docs/theme.md and rewrite the baseline with --update-golden:\n" + "\n".join(new))
    stale = [f"{family}: `{feature}`" for family, features in baseline.items() for feature in features
             if feature not in measured.get(family, {})]
    assert stale == [], "no variant uses these any more: take them off the baseline (--update-golden)"


def test_the_check_names_the_variant_family_and_feature_of_a_new_kind(doiuse: dict) -> None:
    baseline = json.loads(BASELINE.read_text(encoding="utf-8"))
    new = beyond({"control": doiuse["control"]}, baseline)
    assert any(n.startswith("control: `display:flex` is not supported by outlook (") for n in new), new
    assert any(n.startswith("control: `position` is not supported by gmail (") for n in new), new
    assert any(n.startswith("control: `<form> element` is not supported by yahoo (") for n in new), new


# Kinds per family before issue 18 (docs/theme.md): the baseline must stay below them, so that
# --update-golden cannot quietly bring back what the post-processing took out.
BEFORE_ISSUE_18 = {"gmail": 11, "outlook": 13, "yahoo": 6}


def test_the_baseline_stays_below_where_it_started() -> None:
    baseline = json.loads(BASELINE.read_text(encoding="utf-8"))
    counts = {family: len(baseline[family]) for family in FAMILIES}
    assert counts["apple-mail"] == 0, counts
    assert all(counts[family] < before for family, before in BEFORE_ISSUE_18.items()), counts

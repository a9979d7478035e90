"""Issue 18: SpamAssassin (Debian's package, offline rules only) on a message composed by the
real Composer for every variant of every sample edition: no rule with a positive score fires
and the total is at most -1.0. One spamassassin run reads all messages as an mbox (its start-up,
compiling the rules, is most of the time)."""
from __future__ import annotations

import re
import shutil
import subprocess
from datetime import datetime, timezone

import pytest

from newsletter.compose.composer import Composer, Recipient
from newsletter.render.pipeline import render_all
from tests.conftest import require_tool
from tests.support.samples import SAMPLES

KEY = b"test-secret-key-0123456789abcdef"
NOW = datetime(2026, 11, 5, 9, 0, tzinfo=timezone.utc)
READER = Recipient(id=1, email="ana.lindqvist@example.org", name="Ana Lindqvist",
                   merge_data={"first_name": "Ana", "name": "Ana Lindqvist",
                               "attributes": {"centre": "Lindenhof"}})
_RULE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s+([A-Z][A-Z0-9_]+)\s", re.M)
_TOTAL = re.compile(r"\((-?\d+(?:\.\d+)?) points, ")


def composed() -> list[tuple[str, bytes]]:
    out = []
    for sample in SAMPLES:
        ws = sample.ws()
        for rendering in render_all(ws, sample.loaded()):
            variant = rendering.variant
            composer = Composer(variant, ws.settings, KEY, clock=lambda: NOW, campaign="1")
            out.append((f"{sample.id} {variant.key}", bytes(composer.compose(READER))))
    return out


def mbox(messages: list[bytes]) -> bytes:
    """The messages as one mbox (LF line ends, "From " lines in bodies quoted)."""
    parts = []
    for message in messages:
        body = message.replace(b"\r\n", b"\n").replace(b"\nFrom ", b"\n>From ")
        parts.append(b"From newsletter@example.org Thu Nov  5 09:00:00 2026\n" + body + b"\n")
    return b"".join(parts)


def reports(messages: list[bytes]) -> list[tuple[float, dict[str, float]]]:
    """(total score, {rule: score}) per message, in order."""
    run = subprocess.run(["spamassassin", "-L", "-t", "--mbox"], input=mbox(messages),
                         capture_output=True, timeout=600, check=True)
    chunks = run.stdout.decode("utf-8", "replace").split("Content analysis details:")[1:]
    assert len(chunks) == len(messages), run.stderr.decode()[-2000:]
    out = []
    for chunk in chunks:
        table = chunk.split("\n\n")
        total = float(_TOTAL.search(chunk).group(1))
        rules = {name: float(score) for score, name in _RULE.findall("\n".join(table[:2]))}
        out.append((total, rules))
    return out


@pytest.fixture(scope="module")
def scored() -> list[tuple[str, float, dict[str, float]]]:
    require_tool(shutil.which("spamassassin") is not None, "SpamAssassin")
    messages = composed()
    return [(name, total, rules) for (name, _), (total, rules)
            in zip(messages, reports([m for _, m in messages]))]


def test_every_sample_variant_is_scored(scored):
    assert len(scored) >= len(SAMPLES) * 2
    assert all("MAILING_LIST_MULTI" in rules for _, _, rules in scored), scored


def test_no_rule_with_a_positive_score_fires(scored):
    fired = {name: sorted(rule for rule, score in rules.items() if score > 0)
             for name, _, rules in scored}
    assert fired == {name: [] for name in fired}


def test_total_is_at_most_minus_one(scored):
    totals = {name: total for name, total, _ in scored}
    assert all(total <= -1.0 for total in totals.values()), totals

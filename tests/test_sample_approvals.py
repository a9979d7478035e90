"""The root sample workspace requires approval (translations.require_approval) and ships
issues/<edition>/approvals.yaml, so that `make demo` and the send tests can send. Whoever
changes a sample edition's texts must approve its translations again; this says so plainly
instead of letting the demo and the send tests fail further away."""
from __future__ import annotations

from newsletter.content.approvals import language_states
from newsletter.content.loader import load_edition
from newsletter.core.config import load_workspace
from tests.support.workspaces import ROOT, SAMPLE_EDITIONS


def test_the_sample_requires_approval_and_every_translation_is_approved() -> None:
    ws = load_workspace(ROOT)
    assert ws.settings.translations.require_approval
    stale = []
    for edition in SAMPLE_EDITIONS:
        loaded = load_edition(ws, edition)
        for lang, state in language_states(loaded).items():
            if not state.sendable:
                stale.append(f"{state.describe()}: .venv/bin/newsletter approve {edition} --lang {lang} --by sample")
    assert not stale, "approve the sample's translations again:\n" + "\n".join(stale)

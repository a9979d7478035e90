"""Sending an edition language by language, and the sign-off each language needs first.

A *wave* (``newsletter send EDITION --segment S --lang en,de``) is a campaign of its own that
holds only the segment's readers whose variant is in those languages; readers whose language
the edition does not have get the source language's variant and belong to its wave. A later
``--lang es`` is another campaign: the edition-once rule of the journal (a claim is refused
for anyone who has the edition from another campaign that reaches people) keeps every reader
at one message, whatever waves, repeats or full sends follow. Because each wave is its own
campaign, finishing ``en,de`` makes nothing look complete for ``es``, and running the same
wave again resumes it. Naming every language of the edition is the same as naming none.

Where the workspace requires approval (``translations.require_approval``), a send refuses
before anything goes out when a language it would send is not approved, changed since its
approval, or of unknown state (content/approvals.py). The source language needs none. A send
without ``--lang`` sends every language of the edition (a reader may change language or sign
up while it runs), so every one of them must be approved; ``--lang`` leaves the others out.
``--test`` and ``--dry-run`` are never refused: they are how reviewers see the texts.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from newsletter.campaign.journal import Journal
from newsletter.content.approvals import LanguageState, language_states
from newsletter.content.loader import LoadedEdition
from newsletter.core.config import Workspace
from newsletter.core.errors import EXIT_USAGE, NewsletterError


class UnknownLanguage(NewsletterError):
    """``--lang`` names a language the edition does not have."""

    exit_code = EXIT_USAGE


class NotApproved(NewsletterError):
    """A language the send would reach is not approved (where approval is required).
    ``refusals`` says one line per language what stands in the way, for callers that report
    the refusal in their own words (a scheduled send that is held)."""

    def __init__(self, message: str, refusals: Sequence[str] = (), edition: str = "") -> None:
        super().__init__(message)
        self.refusals = tuple(refusals)
        self.edition = edition


def wave_languages(loaded: LoadedEdition, values: Iterable[str]) -> tuple[str, ...]:
    """``--lang`` values (repeatable, comma-separated) -> the wave in the edition's order of
    languages; () for every language (none named, or all of them)."""
    edition_languages = loaded.edition.languages
    values = list(values)
    # Language codes are case-insensitive ('EN', 'pt_br'), as readers' languages are on import.
    known = {lang.lower().replace("_", "-"): lang for lang in edition_languages}
    named = [known.get(lang.strip().lower().replace("_", "-"), lang.strip())
             for value in values for lang in value.split(",") if lang.strip()]
    unknown = [lang for lang in named if lang not in edition_languages]
    if values and not named:   # `--lang ""` must not quietly become the whole edition
        raise UnknownLanguage(f"--lang {','.join(values)!r} names no language; edition {loaded.name}'s "
                              f"languages: {', '.join(edition_languages)}")
    if unknown:
        raise UnknownLanguage(
            f"--lang {','.join(unknown)}: edition {loaded.name} has no language "
            f"{' or '.join(repr(lang) for lang in unknown)}; its languages: {', '.join(edition_languages)} "
            f"(readers of other languages get {loaded.default_language}, the source language)")
    wave = tuple(lang for lang in edition_languages if lang in named)
    return () if set(wave) == set(edition_languages) else wave


def sent_languages(loaded: LoadedEdition, wave: Sequence[str]) -> tuple[str, ...]:
    """The languages a send of this wave may reach: the wave's, or all of the edition's."""
    return tuple(wave) or tuple(loaded.edition.languages)


@dataclass(frozen=True)
class Approvals:
    """The sign-off state of every language of the edition, as a send sees it."""

    required: bool
    states: dict[str, LanguageState]
    languages: tuple[str, ...]              # the languages this send may reach

    def refused(self) -> list[LanguageState]:
        if not self.required:
            return []
        return [self.states[lang] for lang in self.languages if not self.states[lang].sendable]


def approvals_for(ws: Workspace, loaded: LoadedEdition, wave: Sequence[str]) -> Approvals:
    return Approvals(ws.settings.translations.require_approval, language_states(loaded),
                     sent_languages(loaded, wave))


def check_approved(approvals: Approvals, loaded: LoadedEdition, segment: str, wave: Sequence[str]) -> None:
    """Raise NotApproved, saying what to do, when a language of this send may not go out."""
    refused = approvals.refused()
    if not refused:
        return
    lines = [f"{loaded.name} was not sent: translations.require_approval is on (newsletter.yaml) "
             f"and {len(refused)} language(s) of this send may not go out:"]
    lines += [f"  {_refusal(state)}" for state in refused]
    lines.append("Read the texts (newsletter preview, or send --test to a reviewer), then approve:")
    lines += [f"  newsletter approve {loaded.name} --lang {state.language}" for state in refused]
    ready = [lang for lang in approvals.languages if lang not in {s.language for s in refused}]
    if not wave:
        lines.append("A send without --lang sends every language of the edition, so nothing was sent.")
    if ready:
        lines.append(f"Or send the others now and these later: newsletter send {loaded.name} "
                     f"--segment {segment} --lang {','.join(ready)}")
    raise NotApproved("\n".join(lines), [_refusal(state) for state in refused], loaded.name)


def _refusal(state: LanguageState) -> str:
    if state.approval is None:
        return f"{state.language}: not approved"
    by = f"by {state.approval.by} at {state.approval.at}"
    if state.status == "unknown":
        return (f"{state.language}: unknown: the approval {by} has a fingerprint newsletter cannot check "
                f"({state.approval.fingerprint!r}); approve it again")
    return f"{state.language}: changed since it was approved {by}"


def approval_lines(approvals: Approvals) -> list[str]:
    """The dry run's (and every send's) view: each language's state, and what would be refused."""
    setting = "on" if approvals.required else "off: nothing is refused"
    lines = [f"  approval (translations.require_approval {setting}):"]
    for lang, state in approvals.states.items():
        outside = "" if lang in approvals.languages else "  [not in this send]"
        lines.append(f"    {state.describe()}{outside}")
    refused = approvals.refused()
    if refused:
        lines.append("  a real send would refuse: " + ", ".join(f"{s.language} ({s.status})" for s in refused))
    return lines


def waiting_by_language(ws: Workspace, edition: str, everyone: Mapping[str, set[str]]) -> Counter[str]:
    """``everyone`` (language -> the segment's subscriber ids, SendPlan.everyone) less those who
    have the edition from any campaign that reaches people (sent, or unknown: perhaps delivered)."""
    received: set[str] = set()
    if ws.db_path.exists():
        with Journal(ws.db_path) as journal:
            received, _emails = journal.received_elsewhere(edition, None)
    return Counter({lang: len(ids - received) for lang, ids in everyone.items()})

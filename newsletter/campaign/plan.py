"""Campaigns: one edition sent to one segment through one adapter.

``plan`` decides who receives which variant (language x audience blocks shown) and renders
each variant once; ``send`` hands the plan to the runner, which records every recipient in the
send journal, so that running the same send again resumes it and never sends twice.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from newsletter.check.checker import linters
from newsletter.compose.composer import Composer, Recipient
from newsletter.compose import dkim
from newsletter.core.config import Workspace
from newsletter.content.loader import LoadedEdition, load_edition
from newsletter.subscribers.segments import segment_names
from newsletter.delivery import get_adapter
from newsletter.campaign.journal import Journal
from newsletter.campaign.runner import CampaignRunner, Progress, RunOptions, Summary
from newsletter.core.errors import NewsletterError
from newsletter.render import render_variant
from newsletter.render.variant import RenderedVariant
from newsletter.subscribers.store import Store
from newsletter.subscribers.models import Subscriber

log = logging.getLogger(__name__)
TEST_PREFIX = "[TEST] "


class NotReady(NewsletterError):
    """The edition has errors that `newsletter check` reports; nothing is sent."""


@dataclass
class Plan:
    """Who gets what, counted in one pass over the segment. Rendering is done here, once per
    variant, never per recipient; the recipients themselves are read again from the store,
    a page at a time, when sending (so a list of any size takes constant memory)."""

    loaded: LoadedEdition
    segment: str
    audiences: tuple[str, ...]
    members: dict[str, set[int]] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)          # variant key -> recipients
    first: dict[str, Recipient] = field(default_factory=dict)      # variant key -> its first recipient
    variants: dict[str, RenderedVariant] = field(default_factory=dict)

    @property
    def edition(self) -> str:
        return self.loaded.name

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def by_language(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for key, n in self.counts.items():
            out[key.split("+")[0]] += n
        return out

    def recipient(self, sub: Subscriber) -> tuple[Recipient, str, tuple[str, ...]]:
        """The recipient, the language it is sent in and the audience blocks it is shown."""
        languages = self.loaded.edition.languages
        lang = sub.language if sub.language in languages else self.loaded.default_language
        shown = tuple(name for name in self.audiences if sub.stored_id in self.members[name])
        key = "+".join((lang, *shown))
        return Recipient(sub.stored_id, sub.email, sub.name, sub.merge_data(), key), lang, shown


def audience_segments(loaded: LoadedEdition) -> tuple[str, ...]:
    return tuple(sorted({b.audience for b in loaded.edition.blocks if b.audience}))


def ensure_ready(ws: Workspace, loaded: LoadedEdition) -> None:
    """Refuse to send an edition that `newsletter check` finds errors in (warnings pass)."""
    errors = [f for lint in linters() for f in lint(ws, loaded) if f.level == "error"]
    if errors:
        listing = "\n".join(f"  {f}" for f in errors[:10])
        raise NotReady(f"{loaded.name} has {len(errors)} error(s); fix them first "
                       f"(newsletter check {loaded.name}):\n{listing}")


def plan(ws: Workspace, store: Store, edition: str, segment: str, *,
         asset_base_url: str | None = None) -> Plan:
    loaded = load_edition(ws, edition, segment_names(ws))
    ensure_ready(ws, loaded)
    store.segment(segment)  # an unknown segment is an error before anything else happens
    audiences = audience_segments(loaded)
    result = Plan(loaded, segment, audiences, {name: store.segment_ids(name) for name in audiences})
    needed: dict[str, tuple[str, tuple[str, ...]]] = {}
    for sub in store.iter_segment(segment):
        recipient, lang, shown = result.recipient(sub)
        result.counts[recipient.variant] += 1
        if recipient.variant not in needed:
            needed[recipient.variant] = (lang, shown)
            result.first[recipient.variant] = recipient
    for key, (lang, shown) in sorted(needed.items()):
        result.variants[key] = render_variant(ws, loaded, lang, shown, asset_base_url=asset_base_url)
    return result


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def composers(ws: Workspace, the_plan: Plan, campaign: str, *, subject_prefix: str = "",
              clock: Callable[[], datetime] = utc_now) -> dict[str, Composer]:
    signer = dkim.signer_for(ws)   # one key for every variant
    return {key: Composer(variant, ws.settings, ws.secrets.secret_key, clock=clock,
                          campaign=campaign, subject_prefix=subject_prefix, dkim=signer)
            for key, variant in the_plan.variants.items()}


def write_samples(ws: Workspace, the_plan: Plan, folder: Path) -> list[Path]:
    """--dry-run: one sample message per variant (for the first recipient of it), on disk."""
    folder.mkdir(parents=True, exist_ok=True)
    made = composers(ws, the_plan, campaign="dry-run")
    written = []
    for key, recipient in sorted(the_plan.first.items()):
        path = folder / f"{the_plan.edition}-{key}.eml"
        path.write_bytes(made[key].compose(recipient))
        written.append(path)
    return written


def send_tests(ws: Workspace, the_plan: Plan, addresses: Iterable[str], adapter_name: str) -> list[str]:
    """--test: one message per variant to each address, subject prefixed [TEST], outside the
    journal. Merge fields show their defaults: no subscriber's data goes to a test address."""
    made = composers(ws, the_plan, campaign="test", subject_prefix=TEST_PREFIX)
    lines = []
    with get_adapter(adapter_name, ws) as adapter:
        for address in addresses:
            for key in sorted(made):
                person = Recipient(f"test:{address}", address, "", {"email": address}, key)
                results = adapter.send(made[key].compose(person), ws.settings.sender.from_address, [address])
                lines += [f"{address} {key}: {r.status.value} {r.reply or ''}".rstrip() for r in results]
    return lines


def send(ws: Workspace, store: Store, the_plan: Plan, adapter_name: str, *,
         options: RunOptions, progress: Callable[[Progress], None] | None = None,
         adapter_options: dict | None = None) -> Summary:
    """Send (or resume) the campaign for this edition, segment and adapter."""
    journal = Journal(ws.db_path)
    try:
        campaign = journal.campaign_for(the_plan.edition, the_plan.segment, adapter_name)
        made = composers(ws, the_plan, campaign=str(campaign.id))
        limit = ws.settings.delivery.bounce_limit
        with get_adapter(adapter_name, ws, **(adapter_options or {})) as adapter:
            runner = CampaignRunner(
                journal, adapter, made, envelope_from=ws.settings.sender.from_address,
                options=options, still_subscribed=lambda sid: _still_wanted(store, the_plan, sid),
                on_hard_bounce=lambda sid: store.record_bounce(int(sid), limit),
                progress=progress,
            )
            people = _recipients(ws, store, the_plan, made, campaign=str(campaign.id))
            summary = runner.run(campaign.id, people,
                                 lookup=lambda sids: _lookup(ws, store, the_plan, made, str(campaign.id), sids))
            summary.link_fallbacks = sum(c.url_fallbacks for c in made.values())
            return summary
    finally:
        journal.close()


def _recipients(ws: Workspace, store: Store, the_plan: Plan, made: dict[str, Composer],
                campaign: str) -> Iterator[Recipient]:
    """The segment's members as they are now. Someone who joined since the plan may need a
    variant the plan did not render: it is rendered then, once."""
    for sub in store.iter_segment(the_plan.segment):
        yield _with_composer(ws, the_plan, made, campaign, sub)


def _with_composer(ws: Workspace, the_plan: Plan, made: dict[str, Composer], campaign: str,
                   sub: Subscriber) -> Recipient:
    """The recipient, rendering its variant first if nobody needed it so far."""
    recipient, lang, shown = the_plan.recipient(sub)
    if recipient.variant not in made:
        variant = render_variant(ws, the_plan.loaded, lang, shown)
        the_plan.variants[recipient.variant] = variant
        made[recipient.variant] = Composer(variant, ws.settings, ws.secrets.secret_key,
                                           clock=utc_now, campaign=campaign, dkim=dkim.signer_for(ws))
    return recipient


def _lookup(ws: Workspace, store: Store, the_plan: Plan, made: dict[str, Composer], campaign: str,
            sids: Sequence[str]) -> dict[str, Recipient]:
    """The recipients as they are now: a reader who changed their language on the preferences
    page since the send began gets it in the new one (rendered now if needed), one who left
    the segment (a topic unticked) is not sent to."""
    found = {}
    segment = store.segment(the_plan.segment)
    for sid in sids:
        sub = store.get_by_id(int(sid))
        if sub is not None and segment.matches(sub):
            found[sid] = _with_composer(ws, the_plan, made, campaign, sub)
    return found


def _still_wanted(store: Store, the_plan: Plan, sid: Any) -> bool:
    """Checked just before each message: still subscribed and still in the segment."""
    sub = store.get_by_id(int(sid))
    return sub is not None and store.segment(the_plan.segment).matches(sub)


def already_sent(ws: Workspace, edition: str, segment: str, adapter_name: str) -> dict[str, int]:
    """Journal counts of an existing campaign (empty when there is none yet)."""
    if not ws.db_path.exists():
        return {}
    journal = Journal(ws.db_path)
    try:
        found = journal.find_campaign(edition, segment, adapter_name)
        return journal.counts(found.id) if found else {}
    finally:
        journal.close()


def iter_summary_lines(summary: Summary) -> Iterator[str]:
    yield (f"sent {summary.sent}, failed temporarily {summary.failed_temporary}, failed permanently "
           f"{summary.failed_permanent}, skipped {summary.skipped} in {summary.elapsed:.1f} s")
    counts = ", ".join(f"{k} {v}" for k, v in sorted(summary.counts.items()) if v)
    yield f"campaign {summary.campaign} in the journal: {counts or 'empty'}"
    if summary.link_fallbacks:
        yield (f"{summary.link_fallbacks} link(s) got their default: the subscriber's value did not make "
               "an http(s) or mailto link (see docs/editions.md, merge fields in links)")
    if summary.paused:
        yield f"PAUSED: {summary.paused}. Run the same command again to resume."
    for row in summary.failures[:20]:
        yield f"  failed: {row.email}: {row.reply}"
    if summary.unknown:
        yield (f"{len(summary.unknown)} recipient(s) unknown (a send was interrupted while their "
               "message was handed over); not sent again. Check the server's log, or resend "
               "them with --resend-unknown:")
        yield from (f"  unknown: {row.email}" for row in summary.unknown[:20])


"""Campaigns: one edition sent to one segment through one adapter.

``make_plan`` renders every variant of the edition once, runs the lints of `newsletter check`
over those renderings (an edition with errors is not sent) and decides who receives which
variant (language x audience blocks shown); ``send`` hands the plan to the runner, which
records every recipient in the send journal, so that running the same send again resumes it
and never sends twice. A plan limited to some languages (a *wave*, ``send --lang en,de``; see
campaign/waves.py) holds only the readers whose variant is in those languages.
"""
from __future__ import annotations

import logging
import signal
import threading
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from newsletter.check.checker import findings_for
from newsletter.compose.composer import Composer, Recipient
from newsletter.compose import dkim
from newsletter.core.config import Workspace
from newsletter.content.loader import LoadedEdition, load_edition
from newsletter.subscribers.segments import Segment, segment_names
from newsletter.delivery import ADAPTERS, get_adapter
from newsletter.delivery.states import RecipientState as State
from newsletter.campaign.journal import Journal
from newsletter.campaign.runner import CampaignRunner, Progress, RunOptions, Summary
from newsletter.campaign.waves import wave_languages
from newsletter.core.errors import NewsletterError, RenderError
from newsletter.render import render_edition
from newsletter.render.variant import RenderedVariant
from newsletter.subscribers.store import Store
from newsletter.subscribers.models import Subscriber

log = logging.getLogger(__name__)
TEST_PREFIX = "[TEST] "
# Adapters whose messages never reach a person: their campaigns are rehearsals.
REHEARSALS = frozenset({"outbox", "console"})


class NotReady(NewsletterError):
    """The edition has errors that `newsletter check` reports; nothing is sent."""


@dataclass
class SendPlan:
    """Who gets what, counted in one pass over the segment, and every variant rendered once
    (the lints used the same renderings). The recipients themselves are read again from the
    store, a page at a time, when sending (so a list of any size takes constant memory)."""

    loaded: LoadedEdition
    segment: str
    rule: Segment
    audiences: dict[str, Segment]
    members: dict[str, set[int]] = field(default_factory=dict)     # audience -> subscriber ids
    counts: Counter[str] = field(default_factory=Counter)          # variant key -> recipients
    first: dict[str, Recipient] = field(default_factory=dict)      # variant key -> its first recipient
    variants: dict[str, RenderedVariant] = field(default_factory=dict)
    ids: set[str] = field(default_factory=set)                     # the subscriber ids to send to
    languages: tuple[str, ...] = ()          # the wave: only these languages ('' = every language)
    everyone: dict[str, set[str]] = field(default_factory=dict)    # language -> the whole segment's ids

    @property
    def edition(self) -> str:
        return self.loaded.name

    def in_wave(self, recipient: Recipient) -> bool:
        return not self.languages or recipient.variant.split("+")[0] in self.languages

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def by_language(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for key, n in self.counts.items():
            out[key.split("+")[0]] += n
        return out

    def recipient(self, sub: Subscriber, *, fresh: bool = False) -> Recipient:
        """The recipient with the variant it gets: its language (or the edition's default) and
        the audience blocks it is shown. ``fresh``: audiences from the rules, not from the
        member lists read at plan time."""
        languages = self.loaded.edition.languages
        lang = sub.language if sub.language in languages else self.loaded.default_language
        shown = tuple(name for name, rule in self.audiences.items()
                      if (rule.matches(sub) if fresh else sub.stored_id in self.members[name]))
        key = "+".join((lang, *shown))
        return Recipient(sub.stored_id, sub.email, sub.name, sub.merge_data(), key)


def audience_segments(loaded: LoadedEdition) -> tuple[str, ...]:
    return tuple(sorted({b.audience for b in loaded.edition.blocks if b.audience}))


def render_checked(ws: Workspace, loaded: LoadedEdition, *,
                   asset_base_url: str | None = None) -> dict[str, RenderedVariant]:
    """Every variant rendered once, and the lints of `newsletter check` run over exactly those
    renderings; raises NotReady for an edition with errors (warnings pass)."""
    try:
        rendered = render_edition(ws, loaded, asset_base_url=asset_base_url)
    except RenderError as exc:
        raise NotReady(f"{loaded.name} cannot be rendered; fix it first (newsletter check {loaded.name}): {exc}") from None
    errors = [f for f in findings_for(ws, loaded, rendered) if f.level == "error"]
    if errors:
        listing = "\n".join(f"  {f}" for f in errors[:10])
        raise NotReady(f"{loaded.name} has {len(errors)} error(s); fix them first "
                       f"(newsletter check {loaded.name}):\n{listing}")
    return {v.key: v for v in rendered}


def make_plan(ws: Workspace, store: Store, edition: str, segment: str, *,
              asset_base_url: str | None = None, languages: Iterable[str] = ()) -> SendPlan:
    """``languages``: the ``--lang`` values of a wave (checked: an unknown one is a usage error
    before anything is rendered); none = every language."""
    loaded = load_edition(ws, edition, segment_names(ws))
    wave = wave_languages(loaded, languages)
    rule = store.segment(segment)  # an unknown segment is an error before anything is rendered
    variants = render_checked(ws, loaded, asset_base_url=asset_base_url)
    audiences = {name: store.segment(name) for name in audience_segments(loaded)}
    result = SendPlan(loaded, segment, rule, audiences, {name: store.segment_ids(name) for name in audiences},
                      variants=variants, languages=wave)
    for sub in store.iter_segment(segment):
        recipient = result.recipient(sub)
        result.everyone.setdefault(recipient.variant.split("+")[0], set()).add(str(sub.stored_id))
        if result.in_wave(recipient):
            result.ids.add(str(sub.stored_id))
            result.counts[recipient.variant] += 1
            result.first.setdefault(recipient.variant, recipient)
    return result


plan = make_plan   # the name callers used before the send plan got its own name


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Composers(Mapping[str, Composer]):
    """One composer per rendered variant, made when first asked for (by any worker thread),
    so a recipient whose language changed mid-send gets their variant, not a KeyError."""

    def __init__(self, ws: Workspace, variants: Mapping[str, RenderedVariant], *, campaign: str,
                 subject_prefix: str = "", clock: Callable[[], datetime] = utc_now):
        self._ws, self._variants = ws, variants
        self._options = {"campaign": campaign, "subject_prefix": subject_prefix, "clock": clock,
                         "dkim": dkim.signer_for(ws)}   # one key for every variant
        self._made: dict[str, Composer] = {}
        self._lock = threading.Lock()

    def __getitem__(self, key: str) -> Composer:
        made = self._made.get(key)
        if made is None:
            with self._lock:
                made = self._made.get(key)
                if made is None:
                    variant = self._variants[key]
                    made = self._made[key] = Composer(variant, self._ws.settings, self._ws.secrets.secret_key,
                                                      **self._options)  # type: ignore[arg-type]
        return made

    def __contains__(self, key: object) -> bool:
        return key in self._variants

    def made(self) -> list[Composer]:
        """The composers made so far (those of the variants someone was sent)."""
        with self._lock:
            return list(self._made.values())

    def __iter__(self) -> Iterator[str]:
        return iter(self._variants)

    def __len__(self) -> int:
        return len(self._variants)


def write_samples(ws: Workspace, the_plan: SendPlan, folder: Path) -> list[Path]:
    """--dry-run: one sample message per variant (for the first recipient of it), on disk."""
    folder.mkdir(parents=True, exist_ok=True)
    made = Composers(ws, the_plan.variants, campaign="dry-run")
    written = []
    for key, recipient in sorted(the_plan.first.items()):
        path = folder / f"{the_plan.edition}-{key}.eml"
        path.write_bytes(made[key].compose(recipient))
        written.append(path)
    return written


def send_tests(ws: Workspace, the_plan: SendPlan, addresses: Iterable[str], adapter_name: str) -> list[str]:
    """--test: one message per variant to each address, subject prefixed [TEST], outside the
    journal. Merge fields show their defaults: no subscriber's data goes to a test address."""
    made = Composers(ws, the_plan.variants, campaign="test", subject_prefix=TEST_PREFIX)
    keys = sorted(the_plan.counts)
    lines = []
    with get_adapter(adapter_name, ws) as adapter:
        for address in addresses:
            for key in keys:
                person = Recipient(f"test:{address}", address, "", {"email": address}, key)
                results = adapter.send(made[key].compose(person), ws.settings.sender.from_address, [address])
                lines += [f"{address} {key}: {r.status.value} {r.reply or ''}".rstrip() for r in results]
    return lines


def leaves_machine(adapter_name: str) -> bool:
    """Whether the adapter's messages reach people (a rehearsal's do not)."""
    return adapter_name not in REHEARSALS and adapter_name in ADAPTERS


@dataclass(frozen=True)
class Forecast:
    """What a send would do now, for the dry run and the confirmation."""

    journal: dict[State, int]       # the campaign's rows per state (empty: a new campaign)
    new: int                        # segment members not in the campaign's journal yet
    waiting: int                    # journal rows that will be tried (pending, failed-temporary[, unknown])
    received: int                   # segment members who have the edition from another campaign

    @property
    def to_send(self) -> int:
        return max(self.new + self.waiting - self.received, 0)


def forecast(ws: Workspace, the_plan: SendPlan, adapter_name: str, *, resend_unknown: bool = False,
             again: bool = False) -> Forecast:
    if not ws.db_path.exists():
        return Forecast({}, the_plan.total, 0, 0)
    with Journal(ws.db_path) as journal:
        found = journal.find_campaign(the_plan.edition, the_plan.segment, adapter_name, the_plan.languages)
        if found is not None and again and found.status == "finished":
            found = None
        counts = journal.counts(found.id) if found else {}
        in_journal = journal.subscribers(found.id) if found else set()
        waiting_states = (State.PENDING, State.FAILED_TEMPORARY) + ((State.SENDING,) if resend_unknown else ())
        waiting_ids = ({r.subscriber for s in waiting_states for page in journal.pages(found.id, s) for r in page}
                       if found else set())
        new, waiting = the_plan.ids - in_journal, waiting_ids & the_plan.ids
        received = 0
        if leaves_machine(adapter_name) and not again:
            ids, _emails = journal.received_elsewhere(the_plan.edition, found.id if found else None)
            received = len((new | waiting) & ids)
    return Forecast(counts, len(new), len(waiting), received)


def send(ws: Workspace, store: Store, the_plan: SendPlan, adapter_name: str, *,
         options: RunOptions, progress: Callable[[Progress], None] | None = None,
         adapter_options: dict | None = None, again: bool = False) -> Summary:
    """Send (or resume) the campaign for this edition, segment and adapter. SIGTERM and SIGINT
    stop it cleanly (see ``CampaignRunner.stop``); ``Summary.stopped`` names the signal."""
    delivers = leaves_machine(adapter_name)
    with Journal(ws.db_path, sync_claims=ws.settings.delivery.journal_sync == "full") as journal:
        campaign = journal.campaign_for(the_plan.edition, the_plan.segment, adapter_name,
                                        delivers=delivers, new=again, languages=the_plan.languages)
        made = Composers(ws, the_plan.variants, campaign=str(campaign.id))
        limit = ws.settings.delivery.bounce_limit
        # Not ``with adapter`` (which connects first): the runner opens it and waits for a
        # server that is only absent for now.
        adapter = get_adapter(adapter_name, ws, **(adapter_options or {}))
        try:
            runner = CampaignRunner(
                journal, adapter, made, envelope_from=ws.settings.sender.from_address,
                options=options, still_subscribed=lambda sid: _still_wanted(store, the_plan, sid),
                on_hard_bounce=lambda sid: store.record_bounce(int(sid), limit),
                progress=progress, edition=None if again else the_plan.edition,
            )
            people = (r for r in map(the_plan.recipient, store.iter_segment(the_plan.segment)) if the_plan.in_wave(r))
            with stop_on_signals(runner):
                summary = runner.run(campaign.id, people, lookup=lambda sids: _lookup(store, the_plan, sids))
            summary.link_fallbacks = sum(c.url_fallbacks for c in made.made())
            return summary
        finally:
            adapter.close()


@contextmanager
def stop_on_signals(runner: CampaignRunner) -> Iterator[None]:
    """SIGTERM and SIGINT ask the runner to stop cleanly; a second one acts as usual (Ctrl-C
    twice abandons the messages in flight). Only from the main thread, where Python runs
    signal handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def handler(signum: int, _frame: object) -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)
        runner.stop(signal.Signals(signum).name)

    for sig in previous:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _lookup(store: Store, the_plan: SendPlan, sids: Sequence[str]) -> dict[str, Recipient]:
    """The recipients as they are now: subscribed, in the segment, with the variant their
    language and audiences give them today (one query per page); in a wave, only those whose
    language is still one of the wave's (the others are left to their own wave)."""
    found = {}
    for sid, sub in store.get_many(int(s) for s in sids).items():
        if the_plan.rule.matches(sub):
            recipient = the_plan.recipient(sub, fresh=True)
            if the_plan.in_wave(recipient):
                found[str(sid)] = recipient
    return found


def _still_wanted(store: Store, the_plan: SendPlan, sid: Any) -> bool:
    """Checked just before each message: still subscribed, still in the segment and the wave."""
    sub = store.get_by_id(int(sid))
    return sub is not None and the_plan.rule.matches(sub) and the_plan.in_wave(the_plan.recipient(sub, fresh=True))


def iter_summary_lines(summary: Summary) -> Iterator[str]:
    yield (f"sent {summary.sent}, failed temporarily {summary.failed_temporary}, failed permanently "
           f"{summary.failed_permanent}, skipped {summary.skipped} in {summary.elapsed:.1f} s")
    counts = ", ".join(f"{k} {v}" for k, v in summary.counts.items() if v)
    yield f"campaign {summary.campaign} in the journal: {counts or 'empty'}"
    if summary.link_fallbacks:
        yield (f"{summary.link_fallbacks} link(s) got their default: the subscriber's value did not make "
               "an http(s) or mailto link (see docs/editions.md, merge fields in links)")
    if summary.stopped:
        yield (f"STOPPED by {summary.stopped}: no new message was started and the ones in hand were "
               "finished. Run the same command again to resume: nobody already sent to will get it twice.")
    elif summary.paused:
        yield f"PAUSED: {summary.paused}"
    for row in summary.failures[:20]:
        yield f"  failed: {row.email}: {row.reply}"
    if summary.unknown:
        yield (f"{len(summary.unknown)} recipient(s) unknown (a send was interrupted while their "
               "message was handed over); not sent again. Check the server's log, or resend "
               "them with --resend-unknown:")
        yield from (f"  unknown: {row.email}" for row in summary.unknown[:20])

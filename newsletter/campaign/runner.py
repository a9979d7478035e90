"""The campaign runner: sends one campaign's messages through an adapter, recording each
recipient in the send journal as it goes.

The calling thread coordinates; N worker threads (one per SMTP connection) compose and send.
Each worker claims its recipient in the journal ("sending", committed) before handing the
message over and records the outcome right after, so a crash leaves at most N recipients
unknown. Everything the caller passes in as a callback (``still_subscribed``,
``on_hard_bounce``, ``progress``) is called on the calling thread only, so it may use the
caller's own SQLite connection.

Failures: a 4xx reply (or a broken connection before the message was complete) is retried
with exponential backoff until ``retry_for_seconds`` after the first failure; a 5xx reply is
permanent, and when it is about the address (see ``SendResult.hard_bounce``) it is reported to
``on_hard_bounce``. After ``max_consecutive_failures`` failures in a row the campaign pauses:
running it again resumes it.

Wiring (what ``newsletter send`` does)::

    journal = Journal(ws.db_path)
    campaign = journal.campaign_for(edition, segment, adapter_name)
    composers = {v.key: Composer(v, ws.settings, ws.secrets.secret_key, clock=now,
                                 campaign=str(campaign.id)) for v in variants}
    with get_adapter(adapter_name, ws) as adapter:
        runner = CampaignRunner(journal, adapter, composers,
                                envelope_from=ws.settings.sender.from_address,
                                options=RunOptions.from_settings(ws.settings.delivery),
                                still_subscribed=..., on_hard_bounce=..., progress=...)
        summary = runner.run(campaign.id, recipients)   # Recipient(..., variant=v.key)
"""
from __future__ import annotations

import heapq
import itertools
import logging
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from newsletter.compose.composer import ComposeError, Composer, Recipient
from newsletter.compose.headers import checked_address
from newsletter.core.config import Delivery
from newsletter.core.errors import DeliveryError
from newsletter.delivery.base import Adapter, AdapterError, ConnectionLost, Status
from newsletter.campaign.journal import (FAILED_PERMANENT, FAILED_TEMPORARY, FINISHED, OPEN, PAUSED, PENDING, SENDING,
                      SKIPPED, Journal, JournalRow, LeaseOwner)

log = logging.getLogger(__name__)
# Subscriber ids -> their Recipient, for the ids found (the caller's store lookup).
Lookup = Callable[[Sequence[str]], Mapping[str, Recipient]]
BUFFER = 1000  # jobs waiting in memory at most (plus retries): memory does not grow with the list


@dataclass(frozen=True)
class RunOptions:
    connections: int = 1
    rate_per_second: float | None = None
    rate_per_hour: int | None = None
    retry_for_seconds: float = 300.0
    first_backoff_seconds: float = 2.0
    max_backoff_seconds: float = 120.0
    max_consecutive_failures: int = 20
    resend_unknown: bool = False
    lease_seconds: float = 60.0

    @classmethod
    def from_settings(cls, delivery: Delivery, **overrides: Any) -> RunOptions:
        """Options from ``delivery:`` in newsletter.yaml; keyword arguments (e.g. from the
        command line) win."""
        return replace(cls(
            connections=delivery.connections, rate_per_second=delivery.rate_per_second,
            rate_per_hour=delivery.rate_per_hour, retry_for_seconds=delivery.retry_for_seconds,
            max_consecutive_failures=delivery.max_consecutive_failures,
        ), **overrides)


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    sent: int
    failed: int
    skipped: int
    elapsed: float

    @property
    def rate(self) -> float:
        """Messages per second so far."""
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def seconds_left(self) -> float | None:
        return (self.total - self.done) / self.rate if self.rate > 0 else None


@dataclass
class Summary:
    """What one run did (``sent`` ... ``skipped``) and where the campaign stands (``counts``)."""

    campaign: int
    to_send: int
    sent: int = 0
    failed_temporary: int = 0
    failed_permanent: int = 0
    skipped: int = 0
    failures: list[JournalRow] = field(default_factory=list)
    unknown: list[JournalRow] = field(default_factory=list)
    paused: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0
    link_fallbacks: int = 0   # links that got their defaults (Composer.url_fallbacks)

    @property
    def finished(self) -> bool:
        """Nothing left to try: no recipient pending, failed temporarily or unknown."""
        return not any(self.counts.get(s) for s in (PENDING, SENDING, FAILED_TEMPORARY))

    @property
    def all_delivered(self) -> bool:
        """Every recipient of the campaign was sent to (or skipped as unsubscribed)."""
        return self.finished and not self.counts.get(FAILED_PERMANENT)


@dataclass
class _Job:
    recipient: Recipient
    sid: str
    failures: int = 0
    first_failure: float | None = None


@dataclass(frozen=True)
class _Outcome:
    job: _Job
    kind: str           # sent, temporary, permanent, unknown, fatal, gone, returned
    reply: str
    hard_bounce: bool = False


class RateLimiter:
    """At most ``per_second`` messages a second (evenly spaced) and ``per_hour`` in any hour
    (a sliding window). Thread-safe: each ``acquire`` takes the next free slot and sleeps
    until it comes."""

    def __init__(self, per_second: float | None, per_hour: int | None, *,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self._interval = 1.0 / per_second if per_second else 0.0
        self._per_hour = per_hour
        self._clock, self._sleep = clock, sleep
        self._next = float("-inf")
        self._window: deque[float] = deque()
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take the next slot; returns when (on the clock) it is."""
        with self._lock:
            at = max(self._clock(), self._next)
            if self._per_hour:
                if len(self._window) >= self._per_hour:
                    at = max(at, self._window[-self._per_hour] + 3600.0)
                while self._window and self._window[0] <= at - 3600.0:
                    self._window.popleft()
                self._window.append(at)
            self._next = at + self._interval
            return at

    def acquire(self) -> None:
        wait = self.reserve() - self._clock()
        if wait > 0:
            self._sleep(wait)


class CampaignRunner:
    """Runs campaigns through one adapter; see the module documentation."""

    def __init__(self, journal: Journal, adapter: Adapter, composers: Mapping[str, Composer], *,
                 envelope_from: str, options: RunOptions = RunOptions(),
                 still_subscribed: Callable[[Any], bool] | None = None,
                 on_hard_bounce: Callable[[Any], None] | None = None,
                 progress: Callable[[Progress], None] | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.journal = journal
        self.adapter = adapter
        self.composers = composers
        self.envelope_from = envelope_from
        self.options = options
        self.still_subscribed = still_subscribed or (lambda _id: True)
        self.on_hard_bounce = on_hard_bounce or (lambda _id: None)
        self.progress = progress or (lambda _p: None)
        self.clock = clock

    def run(self, campaign_id: int, recipients: Iterable[Recipient],
            lookup: Lookup | None = None) -> Summary:
        """Send campaign ``campaign_id`` to ``recipients`` (each with its variant key), skipping
        everyone the journal already has as sent, failed permanently or skipped.

        ``recipients`` is read once, as a stream, to put everyone in the journal. Given
        ``lookup`` (subscriber ids -> their Recipient), the recipients to send to are then
        fetched a page at a time, so a campaign of any size runs in constant memory; without
        it they are kept in memory (fine for small lists and tests).
        Raises CampaignLocked (exit code 3) if another process is sending it."""
        if lookup is None:
            by_id: dict[str, Recipient] = {}
            for r in recipients:
                by_id.setdefault(str(r.id), r)
            recipients = list(by_id.values())
            lookup = lambda sids: {s: by_id[s] for s in sids if s in by_id}  # noqa: E731
        owner = LeaseOwner.this_process()
        self.journal.acquire(campaign_id, owner, self.options.lease_seconds)
        try:
            return self._run(campaign_id, recipients, lookup, owner)
        finally:
            self.journal.release(campaign_id, owner)

    def _run(self, campaign_id: int, recipients: Iterable[Recipient], lookup: Lookup,
             owner: LeaseOwner) -> Summary:
        started = self.clock()
        to_send, skipped = self._prepare(campaign_id, recipients)
        summary = Summary(campaign_id, to_send=to_send, skipped=skipped)
        if to_send:
            self.journal.set_status(campaign_id, OPEN)
            self.adapter.open()
            dispatch = _Dispatch(self, campaign_id, owner, summary)
            dispatch.run(self._jobs(campaign_id, lookup, dispatch.skip))
        summary.counts = self.journal.counts(campaign_id)
        summary.unknown = self.journal.rows(campaign_id, SENDING)
        summary.elapsed = self.clock() - started
        status = FINISHED if summary.finished else PAUSED if summary.paused else OPEN
        self.journal.set_status(campaign_id, status, summary.paused)
        if summary.unknown and not self.options.resend_unknown:
            log.warning("%s recipients are unknown (a send was interrupted); they were not sent to "
                        "again. Resend them with --resend-unknown.", len(summary.unknown))
        return summary

    @property
    def _wanted(self) -> tuple[str, ...]:
        return (PENDING, FAILED_TEMPORARY, SENDING) if self.options.resend_unknown else (PENDING, FAILED_TEMPORARY)

    def _prepare(self, campaign_id: int, recipients: Iterable[Recipient]) -> tuple[int, int]:
        """Put every recipient in the journal (one transaction: a recipient whose variant was
        not rendered stops it before anything is written), mark those who left the segment
        as skipped, and return (how many are to be sent now, how many were skipped)."""
        current: set[str] = set()

        def rows() -> Iterator[tuple[str, str, str]]:
            for r in recipients:
                if r.variant not in self.composers:
                    raise DeliveryError(f"no rendered variant for {r.variant!r}; "
                                        f"have: {', '.join(self.composers) or 'none'}")
                sid = str(r.id)
                if sid not in current:
                    current.add(sid)
                    yield sid, r.email, r.variant

        self.journal.enqueue(campaign_id, rows())
        skipped = 0
        for page in self.journal.pages(campaign_id, *self._wanted):
            for row in page:
                if row.subscriber not in current:
                    self.journal.record(campaign_id, row.subscriber, SKIPPED, "no longer in the segment")
                    skipped += 1
        counts = self.journal.counts(campaign_id)
        return sum(counts[s] for s in self._wanted), skipped

    def _jobs(self, campaign_id: int, lookup: Lookup,
              skip: Callable[[str, str], None]) -> Iterator[_Job]:
        """The recipients to send to now, a journal page at a time. Two subscriber records
        with one address get one message: the second is skipped."""
        seen = self._addresses_done(campaign_id)
        for page in self.journal.pages(campaign_id, *self._wanted):
            found = lookup([row.subscriber for row in page])
            for row in page:
                recipient = found.get(row.subscriber)
                if recipient is None:
                    skip(row.subscriber, "no longer in the segment")
                    continue
                address = recipient.email.lower()
                if address in seen:
                    skip(row.subscriber, f"{recipient.email} gets this campaign already")
                    continue
                seen.add(address)
                yield _Job(recipient, row.subscriber)

    def _addresses_done(self, campaign_id: int) -> set[str]:
        """Addresses that already have (or may have) this campaign, so that two subscriber
        records with one address do not make it arrive twice."""
        done = ("sent",) if self.options.resend_unknown else ("sent", SENDING)
        return self.journal.emails(campaign_id, *done)


class _Dispatch:
    """One run's moving parts: the workers, the jobs waiting for their turn (a heap by the
    time they may go), and the counts. Only ``run``'s thread touches the heap and counts."""

    def __init__(self, runner: CampaignRunner, campaign_id: int, owner: LeaseOwner, summary: Summary):
        self.r = runner
        self.opts = runner.options
        self.campaign = campaign_id
        self.owner = owner
        self.summary = summary
        self.workers = max(1, min(self.opts.connections, runner.adapter.max_parallel))
        self.work: queue.Queue[_Job | None] = queue.Queue()
        self.events: queue.Queue[_Outcome] = queue.Queue()
        self.waiting: list[tuple[float, int, _Job]] = []
        self.order = itertools.count()
        self.in_flight = 0
        self.source: Iterator[_Job] | None = None
        self.in_a_row = 0
        self.done = 0
        self.started = runner.clock()
        # Set when the run stops early; wakes workers waiting for a rate-limit slot (which
        # can be an hour away) so that a pause or Ctrl-C does not wait for them.
        self.stopping = threading.Event()
        self.limiter = RateLimiter(self.opts.rate_per_second, self.opts.rate_per_hour,
                                   clock=runner.clock, sleep=self.stopping.wait)

    # -- the coordinating thread ---------------------------------------------------------------

    def run(self, jobs: Iterator[_Job]) -> None:
        self.source = jobs
        self._refill()
        threads = [threading.Thread(target=self._worker, name=f"send-{i}", daemon=True)
                   for i in range(self.workers)]
        for t in threads:
            t.start()
        try:
            self._loop()
        finally:
            self._stop(threads)

    def _loop(self) -> None:
        renew_every = self.opts.lease_seconds / 3
        last_renewal = self.r.clock()
        while True:
            now = self.r.clock()
            if now - last_renewal >= renew_every:
                if not self.r.journal.renew(self.campaign, self.owner, self.opts.lease_seconds):
                    self._pause("another process took over this campaign's lock")
                last_renewal = now
            self._dispatch(now)
            if self.in_flight == 0 and ((not self.waiting and self.source is None) or self.summary.paused):
                return
            timeout = renew_every
            if self.waiting and self.in_flight < self.workers and not self.summary.paused:
                timeout = min(timeout, self.waiting[0][0] - now)
            try:
                self._handle(self.events.get(timeout=max(timeout, 0.001)))
            except queue.Empty:
                pass

    def _refill(self) -> None:
        """Take jobs from the source until BUFFER wait in the heap (so memory stays bounded
        whatever the campaign's size)."""
        while self.source is not None and len(self.waiting) < BUFFER:
            job = next(self.source, None)
            if job is None:
                self.source = None
            else:
                self._wait(job, 0.0)

    def skip(self, sid: str, why: str) -> None:
        self.r.journal.record(self.campaign, sid, SKIPPED, why)
        self.summary.skipped += 1
        self.done += 1
        self._report()

    def _dispatch(self, now: float) -> None:
        """Hand ready jobs to idle workers, checking each recipient is still subscribed at
        the last moment (the queue never holds more jobs than there are workers)."""
        self._refill()
        while (not self.summary.paused and self.in_flight < self.workers
               and self.waiting and self.waiting[0][0] <= now):
            job = heapq.heappop(self.waiting)[2]
            if not self.r.still_subscribed(job.recipient.id):
                self.skip(job.sid, "unsubscribed after the campaign started")
                self._refill()
                continue
            self.work.put(job)
            self.in_flight += 1
            self._refill()

    def _handle(self, outcome: _Outcome) -> None:
        self.in_flight -= 1
        job, kind, summary = outcome.job, outcome.kind, self.summary
        if kind == "sent":
            summary.sent += 1
            self.in_a_row = 0
        elif kind == "temporary":
            self.in_a_row += 1
            if self._retry(job):
                kind = "retrying"
            else:
                summary.failed_temporary += 1
                summary.failures.append(self._row(job, FAILED_TEMPORARY, outcome.reply))
        elif kind == "permanent":
            self.in_a_row += 1
            summary.failed_permanent += 1
            summary.failures.append(self._row(job, FAILED_PERMANENT, outcome.reply))
            if outcome.hard_bounce:
                self.r.on_hard_bounce(job.recipient.id)
        elif kind == "unknown":
            self.in_a_row += 1
        elif kind == "fatal":
            self._pause(outcome.reply)
        if kind not in ("retrying", "fatal", "returned"):
            self.done += 1
        if self.in_a_row >= self.opts.max_consecutive_failures:
            self._pause(f"{self.in_a_row} failures in a row, the last: {outcome.reply}")
        self._report()

    def _retry(self, job: _Job) -> bool:
        """Put a temporarily failed job back, after an exponential backoff; False once its
        retry time (from the first failure) has run out."""
        now = self.r.clock()
        job.failures += 1
        job.first_failure = job.first_failure if job.first_failure is not None else now
        deadline = job.first_failure + self.opts.retry_for_seconds
        if now >= deadline:
            return False
        delay = min(self.opts.first_backoff_seconds * 2 ** (job.failures - 1), self.opts.max_backoff_seconds)
        self._wait(job, min(now + delay, deadline))
        return True

    def _wait(self, job: _Job, at: float) -> None:
        heapq.heappush(self.waiting, (at, next(self.order), job))

    def _pause(self, reason: str) -> None:
        self.stopping.set()
        if not self.summary.paused:
            log.warning("campaign %s paused: %s", self.campaign, reason)
            self.summary.paused = (f"{reason}. Fix the cause, then run the same send again to "
                                   "resume: nobody already sent to will get it twice.")

    def _report(self) -> None:
        s = self.summary
        self.r.progress(Progress(self.done, s.to_send, s.sent, s.failed_permanent + s.failed_temporary,
                                 s.skipped, self.r.clock() - self.started))

    def _row(self, job: _Job, status: str, reply: str) -> JournalRow:
        return JournalRow(job.sid, job.recipient.email, job.recipient.variant, status,
                          job.failures + 1, reply, "")

    def _stop(self, threads: list[threading.Thread]) -> None:
        """Take back jobs no worker has started (they stay pending), let the workers finish
        the message each has in hand, and count those outcomes."""
        self.stopping.set()
        while True:
            try:
                if self.work.get_nowait() is not None:
                    self.in_flight -= 1
            except queue.Empty:
                break
        for _ in threads:
            self.work.put(None)
        for t in threads:
            t.join()
        while True:
            try:
                self._handle(self.events.get_nowait())
            except queue.Empty:
                break

    # -- worker threads --------------------------------------------------------------------

    def _worker(self) -> None:
        try:
            while (job := self.work.get()) is not None:
                self.events.put(self._attempt(job))
        finally:
            self.r.journal.close()

    def _attempt(self, job: _Job) -> _Outcome:
        """Claim, compose, send, record. Never raises: a surprise becomes a "fatal" outcome
        that pauses the campaign, and the recipient stays unknown."""
        try:
            self.limiter.acquire()
            if self.stopping.is_set():
                return _Outcome(job, "returned", "the run is stopping")   # never claimed: stays as it was
            if not self.r.journal.claim(self.campaign, job.sid, job.recipient.email, self.opts.resend_unknown):
                return _Outcome(job, "gone", "already recorded by another run")
            return self._send(job)
        except Exception as exc:  # noqa: BLE001 - a worker must report, not die
            log.exception("sending to subscriber %s failed unexpectedly", job.sid)
            return _Outcome(job, "fatal", f"unexpected error sending to subscriber {job.sid}: {exc!r}")

    def _send(self, job: _Job) -> _Outcome:
        journal, campaign = self.r.journal, self.campaign
        try:
            composer = self.r.composers[job.recipient.variant]
            message = composer.compose(job.recipient)
            envelope_from = composer.envelope_from(job.recipient) or self.r.envelope_from  # VERP if set
            address = checked_address(job.recipient.email)
        except (ComposeError, ValueError) as exc:
            journal.record(campaign, job.sid, FAILED_PERMANENT, str(exc))
            return _Outcome(job, "permanent", str(exc))
        try:
            result = self.r.adapter.send(message, envelope_from, [address])[0]
        except ConnectionLost as exc:
            if exc.uncertain:
                return _Outcome(job, "unknown", str(exc))     # stays "sending"
            journal.record(campaign, job.sid, FAILED_TEMPORARY, str(exc))
            return _Outcome(job, "temporary", str(exc))
        except AdapterError as exc:
            journal.unclaim(campaign, job.sid, str(exc))
            return _Outcome(job, "fatal", str(exc))
        journal.record(campaign, job.sid, result.status.value, result.reply, result.message_id or None)
        kind = {Status.SENT: "sent", Status.TEMPORARY: "temporary", Status.PERMANENT: "permanent"}[result.status]
        return _Outcome(job, kind, result.reply, result.hard_bounce)

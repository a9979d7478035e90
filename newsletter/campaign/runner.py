"""The campaign runner: sends one campaign's messages through an adapter, recording each
recipient in the send journal as it goes.

The calling thread coordinates; N worker threads (one per SMTP connection) compose and send.
Each worker claims its recipient in the journal ("sending", committed) before handing the
message over and records the outcome right after, so a crash leaves at most N recipients
unknown. Everything the caller passes in as a callback (``still_subscribed``, ``lookup``,
``on_hard_bounce``, ``progress``) is called on the calling thread only, so it may use the
caller's own SQLite connection.

The last check comes right before hand-over: the coordinating thread waits for the rate
limit and any backoff first, then asks ``still_subscribed``; a recipient whose turn was
delayed (a rate limit, a retry, a backoff of the server, or a page read over ``STALE_SECONDS``
ago) is read again through ``lookup`` (segment membership, address, language: a changed
variant is used); only then does an idle worker get the message, and it sends it at once.
Others were read with their page, at most one page (``PAGE``) ahead of their turn.

What a reply means comes from ``delivery.replies`` (one table): a hard bounce is reported to
``on_hard_bounce``; a temporary failure is retried with exponential backoff until
``retry_for_seconds`` after the recipient's first failure; a failure for this campaign is
recorded and nothing else. When the *server* is the problem (no connection, 421, too many
recipients) the recipient goes back to pending and the whole run backs off, exponentially with
jitter, until ``retry_for_seconds`` of trouble in a row; then it pauses. A refused session
(530 at MAIL, a refused sender or login) pauses at once, every recipient still pending. After
``max_consecutive_failures`` failures in a row, or as many lost answers as there are
connections, the campaign pauses too: running it again resumes it.

``stop`` (called by the SIGTERM/SIGINT handlers of ``newsletter send``) makes the run take no
new work and let each worker finish the transaction in its hands; the lease is released.
"""
from __future__ import annotations

import heapq
import itertools
import logging
import queue
import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from newsletter.compose.composer import ComposeError, Composer, Recipient
from newsletter.compose.headers import checked_address
from newsletter.core.config import Delivery
from newsletter.core.errors import DatabaseError, DeliveryError
from newsletter.delivery.base import Adapter, AdapterError, ConnectionLost
from newsletter.delivery.replies import Verdict
from newsletter.delivery.states import RecipientState as State
from newsletter.campaign.journal import CampaignStatus, Claim, GroupCommit, Journal, JournalRow, LeaseOwner

log = logging.getLogger(__name__)
# Subscriber ids -> their Recipient, for the ids found (the caller's store lookup).
Lookup = Callable[[Sequence[str]], Mapping[str, Recipient]]
PAGE = 500          # journal rows read (and recipients looked up) at a time
BUFFER = PAGE       # tasks waiting in memory at most (plus retries): memory does not grow with the list
STALE_SECONDS = 30.0  # a recipient read longer ago than this is read again before hand-over
TICK = 0.25         # the coordinator looks at least this often for a stop request


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
    waiting_until: float | None = None   # wall-clock time (time.time()) the run waits for the server until
    waiting_for: str = ""                # why: the server's last answer

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
    stopped: str | None = None          # the signal that stopped the run ("SIGTERM", "SIGINT")
    counts: dict[State, int] = field(default_factory=dict)
    elapsed: float = 0.0
    link_fallbacks: int = 0   # links that got their defaults (Composer.url_fallbacks)

    @property
    def finished(self) -> bool:
        """Nothing left to try: no recipient pending, failed temporarily or unknown."""
        return not any(self.counts.get(s) for s in (State.PENDING, State.SENDING, State.FAILED_TEMPORARY))

    @property
    def all_delivered(self) -> bool:
        """Every recipient of the campaign was sent to (or skipped as unsubscribed)."""
        return self.finished and not self.counts.get(State.FAILED_PERMANENT)


@dataclass
class _Task:
    """One recipient's turn in this run (not the render pipeline's job)."""

    recipient: Recipient
    sid: str
    read_at: float                      # when the recipient was read from the store
    failures: int = 0
    first_failure: float | None = None


@dataclass(frozen=True)
class _Outcome:
    task: _Task
    state: State | None     # the recipient's journal state now; None: another run recorded it
    reply: str
    verdict: Verdict | None = None
    halt: str | None = None  # pause the campaign for this reason


class RateLimiter:
    """At most ``per_second`` messages a second (evenly spaced) and ``per_hour`` in any hour
    (a sliding window). Thread-safe: ``reserve`` takes the next free slot; ``acquire`` also
    sleeps until it comes; ``next_slot`` tells when the next one would be."""

    def __init__(self, per_second: float | None, per_hour: int | None, *,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self._interval = 1.0 / per_second if per_second else 0.0
        self._per_hour = per_hour
        self._clock, self._sleep = clock, sleep
        self._next = float("-inf")
        self._window: deque[float] = deque()
        self._lock = threading.Lock()

    def next_slot(self) -> float:
        """The earliest time the next slot is free (in the past when one is free now)."""
        with self._lock:
            at = self._next
            if self._per_hour and len(self._window) >= self._per_hour:
                at = max(at, self._window[-self._per_hour] + 3600.0)
            return at

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
                 clock: Callable[[], float] = time.monotonic,
                 edition: str | None = None):
        """``edition``: when given and the adapter reaches people, nobody who received this
        edition from another campaign is sent it again (the caller's ``--again`` passes None)."""
        self.journal = journal
        self.adapter = adapter
        self.composers = composers
        self.envelope_from = envelope_from
        self.options = options
        self.still_subscribed = still_subscribed or (lambda _id: True)
        self.on_hard_bounce = on_hard_bounce or (lambda _id: None)
        self.progress = progress or (lambda _p: None)
        self.clock = clock
        self.edition = edition if adapter.leaves_machine else None
        self._stop_reason: str | None = None

    def stop(self, reason: str) -> None:
        """Stop taking new work (safe to call from a signal handler: it only sets a flag that
        the coordinating thread looks at every ``TICK`` seconds)."""
        if self._stop_reason is None:
            self._stop_reason = reason

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
            self.journal.set_status(campaign_id, CampaignStatus.OPEN)
            self._open_adapter()
            dispatch = _Dispatch(self, campaign_id, owner, summary, lookup)
            dispatch.run(self._tasks(campaign_id, lookup, dispatch.skip))
        summary.stopped = self._stop_reason
        summary.counts = self.journal.counts(campaign_id)
        summary.unknown = self.journal.rows(campaign_id, State.SENDING)
        summary.elapsed = self.clock() - started
        status = (CampaignStatus.FINISHED if summary.finished else
                  CampaignStatus.PAUSED if summary.paused or summary.stopped else CampaignStatus.OPEN)
        note = summary.paused or (f"stopped by {summary.stopped}" if summary.stopped else None)
        self.journal.set_status(campaign_id, status, note)
        if summary.unknown and not self.options.resend_unknown:
            log.warning("%s recipients are unknown (a send was interrupted); they were not sent to "
                        "again. Resend them with --resend-unknown.", len(summary.unknown))
        return summary

    def _open_adapter(self) -> None:
        """Connect now, so that a wrong password or certificate stops the campaign before any
        recipient is claimed. A server that is only absent for now is waited for (the workers'
        sends back off) rather than refused here."""
        try:
            self.adapter.open()
        except ConnectionLost as exc:
            log.warning("%s; waiting for the server", exc)

    @property
    def _wanted(self) -> tuple[State, ...]:
        if self.options.resend_unknown:
            return (State.PENDING, State.FAILED_TEMPORARY, State.SENDING)
        return (State.PENDING, State.FAILED_TEMPORARY)

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
                    self.journal.record(campaign_id, row.subscriber, State.SKIPPED, "no longer in the segment")
                    skipped += 1
        counts = self.journal.counts(campaign_id)
        return sum(counts[s] for s in self._wanted), skipped

    def _tasks(self, campaign_id: int, lookup: Lookup,
               skip: Callable[[str, str], None]) -> Iterator[_Task]:
        """The recipients to send to now, a journal page at a time. Two subscriber records
        with one address get one message: the second is skipped."""
        seen = self._addresses_done(campaign_id)
        for page in self.journal.pages(campaign_id, *self._wanted, size=PAGE):
            found = lookup([row.subscriber for row in page])
            read_at = self.clock()
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
                yield _Task(recipient, row.subscriber, read_at)

    def _addresses_done(self, campaign_id: int) -> set[str]:
        """Addresses that already have (or may have) this campaign, so that two subscriber
        records with one address do not make it arrive twice."""
        done = (State.SENT,) if self.options.resend_unknown else (State.SENT, State.SENDING)
        return self.journal.emails(campaign_id, *done)


class _Dispatch:
    """One run's moving parts: the workers, the tasks waiting for their turn (a heap by the
    time they may go), the server's backoff and the counts. Only ``run``'s thread touches
    the heap and counts."""

    def __init__(self, runner: CampaignRunner, campaign_id: int, owner: LeaseOwner, summary: Summary,
                 lookup: Lookup):
        self.r = runner
        self.opts = runner.options
        self.campaign = campaign_id
        self.owner = owner
        self.summary = summary
        self.lookup = lookup
        self.workers = max(1, min(self.opts.connections, runner.adapter.max_parallel))
        self.work: queue.Queue[_Task | None] = queue.Queue()
        self.events: queue.Queue[_Outcome] = queue.Queue()
        self.waiting: list[tuple[float, int, _Task]] = []
        self.order = itertools.count()
        self.in_flight = 0
        self.source: Iterator[_Task] | None = None
        self.in_a_row = 0
        self.unknowns = 0
        self.draining = False
        self.done = 0
        self.started = runner.clock()
        # The server's trouble: since when (None: none now), how often, and until when to wait.
        self.trouble_since: float | None = None
        self.troubles = 0
        self.hold_until = float("-inf")
        self.held_at = float("-inf")   # when the last backoff began
        self.hold_reason = ""
        self.rate_limited = bool(self.opts.rate_per_second or self.opts.rate_per_hour)
        # Set when the run stops early; a worker checks it before claiming.
        self.stopping = threading.Event()
        self.limiter = RateLimiter(self.opts.rate_per_second, self.opts.rate_per_hour, clock=runner.clock)
        # The workers' claims and outcomes, and the skips, go through one writer (see GroupCommit).
        self.writer = GroupCommit(runner.journal)

    @property
    def halted(self) -> bool:
        return bool(self.summary.paused or self.stopping.is_set())

    # -- the coordinating thread ---------------------------------------------------------------

    def run(self, tasks: Iterator[_Task]) -> None:
        self.source = tasks
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
            if self.r._stop_reason is not None and not self.stopping.is_set():
                log.warning("campaign %s: %s received; finishing the messages in hand", self.campaign,
                            self.r._stop_reason)
                self.stopping.set()
            if now - last_renewal >= renew_every:
                if not self.r.journal.renew(self.campaign, self.owner, self.opts.lease_seconds):
                    self._pause("another process took over this campaign's lock")
                last_renewal = now
            self._dispatch(now)
            if self.in_flight == 0 and ((not self.waiting and self.source is None) or self.halted):
                return
            timeout = min(renew_every, TICK)
            if self.waiting and self.in_flight < self.workers and not self.halted:
                due = max(self.waiting[0][0], self.hold_until, self.limiter.next_slot())
                timeout = min(timeout, due - now)
            try:
                self._handle(self.events.get(timeout=max(timeout, 0.001)))
            except queue.Empty:
                pass

    def _refill(self) -> None:
        """Take tasks from the source until BUFFER wait in the heap (so memory stays bounded
        whatever the campaign's size)."""
        while self.source is not None and len(self.waiting) < BUFFER:
            task = next(self.source, None)
            if task is None:
                self.source = None
            else:
                self._wait(task, 0.0)

    def skip(self, sid: str, why: str) -> None:
        self.writer.record(self.campaign, sid, State.SKIPPED, why)
        self.summary.skipped += 1
        self.done += 1
        self._report()

    def _dispatch(self, now: float) -> None:
        """Hand ready tasks to idle workers (never more than there are workers), each after
        the rate limit and any backoff, and after the last check."""
        self._refill()
        if self.draining and self.in_flight == 0:
            self.draining = False
        while (not self.halted and not self.draining and self.in_flight < self.workers and self.waiting
               and self.waiting[0][0] <= now and self.hold_until <= now and self.limiter.next_slot() <= now):
            task = self._last_check(heapq.heappop(self.waiting)[2], now)
            if task is not None:
                self.limiter.reserve()
                self.work.put(task)
                self.in_flight += 1
            self._refill()
            now = self.r.clock()

    def _last_check(self, task: _Task, now: float) -> _Task | None:
        """Still subscribed (always asked), and a recipient whose turn was delayed read again:
        still in the segment, with their address and variant now."""
        if not self.r.still_subscribed(task.recipient.id):
            self.skip(task.sid, "unsubscribed after the campaign started")
            return None
        delayed = (self.rate_limited or task.failures or task.read_at <= self.held_at
                   or now - task.read_at > STALE_SECONDS)
        if not delayed:
            return task
        fresh = self.lookup([task.sid]).get(task.sid)
        if fresh is None:
            self.skip(task.sid, "no longer in the segment")
            return None
        task.recipient, task.read_at = fresh, now
        return task

    def _handle(self, outcome: _Outcome) -> None:
        self.in_flight -= 1
        task, state, summary = outcome.task, outcome.state, self.summary
        if state is State.SENT:
            summary.sent += 1
            self.in_a_row = self.unknowns = 0
            self.trouble_since, self.troubles = None, 0
        elif state is State.FAILED_TEMPORARY:
            self.in_a_row += 1
            self.trouble_since, self.troubles = None, 0   # the server answers; the recipient waits
            if self._retry(task):
                state = State.PENDING
            else:
                summary.failed_temporary += 1
                summary.failures.append(self._row(task, state, outcome.reply))
        elif state is State.FAILED_PERMANENT:
            self.in_a_row += 1
            summary.failed_permanent += 1
            summary.failures.append(self._row(task, state, outcome.reply))
            if outcome.verdict is Verdict.HARD_BOUNCE:
                self.r.on_hard_bounce(task.recipient.id)
        elif state is State.SENDING:
            self._lost_answer(outcome.reply)
        elif state is State.SKIPPED:
            summary.skipped += 1
        elif state is State.PENDING:
            if outcome.halt:
                self._pause(outcome.halt)
            elif outcome.verdict is Verdict.SERVER_BUSY:
                self._server_trouble(task, outcome.reply)
        if state is not State.PENDING:
            self.done += 1
        if self.in_a_row >= self.opts.max_consecutive_failures:
            self._pause(f"{self.in_a_row} failures in a row, the last: {outcome.reply}")
        self._report()

    def _lost_answer(self, reply: str) -> None:
        """The message went out but its answer did not come: unknown. One per connection at
        most: as many in a row as there are connections pause the campaign (a server that
        stalls after DATA would otherwise make every recipient unknown)."""
        self.in_a_row += 1
        self.unknowns += 1
        self.draining = True   # nothing new until every transaction in hand has answered
        if self.unknowns >= self.workers:
            self._pause(f"{self.unknowns} message(s) got no answer from the server after they were "
                        f"sent (the last: {reply}); those recipients are unknown")
        else:
            self._back_off(reply)

    def _server_trouble(self, task: _Task, reply: str) -> None:
        """The server, not the recipient, failed (no connection, 421, too many recipients):
        the recipient waits, and so does the whole run, until ``retry_for_seconds`` of
        trouble in a row; then the campaign pauses."""
        self._wait(task, self.r.clock())
        now = self.r.clock()
        if self.trouble_since is None:
            self.trouble_since = now
        if now - self.trouble_since >= self.opts.retry_for_seconds:
            self._pause(f"the server did not take mail for {now - self.trouble_since:.0f} s "
                        f"(delivery.retry_for_seconds), the last answer: {reply}")
            return
        self._back_off(reply)

    def _back_off(self, reply: str) -> None:
        now = self.r.clock()
        start = self.trouble_since if self.trouble_since is not None else now
        self.troubles += 1
        delay = min(self.opts.first_backoff_seconds * 2 ** (self.troubles - 1), self.opts.max_backoff_seconds)
        delay *= random.uniform(0.5, 1.0)   # jitter: many senders do not come back at one instant
        until = min(now + delay, start + self.opts.retry_for_seconds)
        if until > self.hold_until:
            self.hold_until, self.hold_reason, self.held_at = until, reply, now
            log.info("waiting %.1f s for the server: %s", until - now, reply)

    def _retry(self, task: _Task) -> bool:
        """Put a temporarily failed task back, after an exponential backoff; False once its
        retry time (from the first failure) has run out."""
        now = self.r.clock()
        task.failures += 1
        task.first_failure = task.first_failure if task.first_failure is not None else now
        deadline = task.first_failure + self.opts.retry_for_seconds
        if now >= deadline:
            return False
        delay = min(self.opts.first_backoff_seconds * 2 ** (task.failures - 1), self.opts.max_backoff_seconds)
        self._wait(task, min(now + delay, deadline))
        return True

    def _wait(self, task: _Task, at: float) -> None:
        heapq.heappush(self.waiting, (at, next(self.order), task))

    def _pause(self, reason: str) -> None:
        self.stopping.set()
        if not self.summary.paused:
            log.warning("campaign %s paused: %s", self.campaign, reason)
            self.summary.paused = (f"{reason}. Fix the cause, then run the same send again to "
                                   "resume: nobody already sent to will get it twice.")

    def _report(self) -> None:
        s = self.summary
        now = self.r.clock()
        waiting = self.hold_until > now and not self.halted
        self.r.progress(Progress(
            self.done, s.to_send, s.sent, s.failed_permanent + s.failed_temporary, s.skipped,
            now - self.started, time.time() + (self.hold_until - now) if waiting else None,
            self.hold_reason if waiting else ""))

    def _row(self, task: _Task, status: State, reply: str) -> JournalRow:
        return JournalRow(task.sid, task.recipient.email, task.recipient.variant, status,
                          task.failures + 1, reply, "")

    def _stop(self, threads: list[threading.Thread]) -> None:
        """Take back tasks no worker has started (they stay pending), let the workers finish
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
        try:
            while True:
                try:
                    self._handle(self.events.get_nowait())
                except queue.Empty:
                    break
        finally:
            self.writer.close()   # every outcome committed before the summary is read

    # -- worker threads --------------------------------------------------------------------

    def _worker(self) -> None:
        try:
            while (task := self.work.get()) is not None:
                self.events.put(self._attempt(task))
        finally:
            self.r.journal.close()   # a connection this thread may have opened

    def _attempt(self, task: _Task) -> _Outcome:
        """Claim, compose, send, record. Never raises: a surprise pauses the campaign (the
        recipient stays pending if it was not claimed yet, else unknown)."""
        try:
            if self.stopping.is_set():
                return _Outcome(task, State.PENDING, "the run is stopping")   # never claimed
            claim = self.writer.claim(self.campaign, task.sid, task.recipient.email, self.opts.resend_unknown,
                                      variant=task.recipient.variant, edition=self.r.edition)
            if claim is Claim.RECEIVED:
                return _Outcome(task, State.SKIPPED, f"already received {self.r.edition}")
            if not claim:
                return _Outcome(task, None, "already recorded by another run")
            return self._send(task)
        except DatabaseError as exc:
            return _Outcome(task, State.PENDING, str(exc), halt=str(exc))
        except Exception as exc:  # noqa: BLE001 - a worker must report, not die
            log.exception("sending to subscriber %s failed unexpectedly", task.sid)
            reason = f"unexpected error sending to subscriber {task.sid}: {exc!r}"
            return _Outcome(task, State.PENDING, reason, halt=reason)

    def _send(self, task: _Task) -> _Outcome:
        journal, campaign = self.writer, self.campaign
        try:
            composer = self.r.composers[task.recipient.variant]
            message = composer.compose(task.recipient)
            envelope_from = composer.envelope_from(task.recipient) or self.r.envelope_from  # VERP if set
            address = checked_address(task.recipient.email)
        except (ComposeError, ValueError) as exc:
            journal.record(campaign, task.sid, State.FAILED_PERMANENT, str(exc))
            return _Outcome(task, State.FAILED_PERMANENT, str(exc), Verdict.FAILED)
        try:
            result = self.r.adapter.send(message, envelope_from, [address])[0]
        except ConnectionLost as exc:
            if exc.uncertain:
                return _Outcome(task, State.SENDING, str(exc))     # stays "sending": unknown
            journal.unclaim(campaign, task.sid, str(exc))
            return _Outcome(task, State.PENDING, str(exc), Verdict.SERVER_BUSY)
        except AdapterError as exc:
            journal.unclaim(campaign, task.sid, str(exc))
            return _Outcome(task, State.PENDING, str(exc), halt=str(exc))
        if result.verdict in (Verdict.SERVER_BUSY, Verdict.SESSION_REFUSED):
            journal.unclaim(campaign, task.sid, result.reply)
            halt = (f"the server refused the session ({result.stage or 'session'}): {result.reply}"
                    if result.verdict is Verdict.SESSION_REFUSED else None)
            return _Outcome(task, State.PENDING, result.reply, result.verdict, halt)
        journal.record(campaign, task.sid, result.status, result.reply, result.message_id or None)
        return _Outcome(task, result.status, result.reply, result.verdict)

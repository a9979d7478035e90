"""What an event does to its subscriber (Mailman's idea: a bounce is an event with a score,
not a verdict).

- hard bounce: counts against the address; at ``delivery.bounce_limit`` the subscriber is
  ``cleaned`` (the subscriber store's ``record_bounce``);
- soft bounce: adds one to a score that is forgotten after ``feedback.soft_bounce_quiet_days``
  without another; at ``feedback.soft_bounce_limit`` the score counts as one hard bounce;
- complaint and unsubscribe request: the person is ``unsubscribed`` at once (a complaint is
  the strongest "no" there is, and an unsubscribe header is a promise);
- delivery delay: recorded only.

Events are stored first (idempotent by key) and applied after, so an event read twice is
applied once, and one stored by a run that stopped halfway is applied by the next run.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from newsletter.core.config import Settings
from newsletter.feedback.events import (COMPLAINT, DELAY, HARD_BOUNCE, SOFT_BOUNCE, UNSUBSCRIBE, Event,
                                        EventStore)
from newsletter.subscribers.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Policy:
    bounce_limit: int = 1
    soft_bounce_limit: int = 5
    soft_bounce_quiet_days: float = 14

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(settings.delivery.bounce_limit, settings.feedback.soft_bounce_limit,
                   settings.feedback.soft_bounce_quiet_days)


@dataclass(frozen=True)
class Recorded:
    """An event as it was handled: ``new`` is False when it had been recorded before."""

    event: Event
    new: bool
    outcome: str


def record(events: EventStore, store: Store, event: Event, policy: Policy) -> Recorded:
    """Store ``event`` and apply it to its subscriber, unless it was stored before."""
    event_id = events.add(event)
    if event_id is None:
        return Recorded(event, False, "already recorded")
    outcome = apply(events, store, event, policy)
    events.mark_applied(event_id, outcome)
    return Recorded(event, True, outcome)


def apply_pending(events: EventStore, store: Store, policy: Policy) -> int:
    """Apply events a stopped run stored but did not apply; how many."""
    pending = events.unapplied()
    for stored in pending:
        events.mark_applied(stored.id, apply(events, store, stored.event, policy))
    return len(pending)


def apply(events: EventStore, store: Store, event: Event, policy: Policy) -> str:
    """Change the subscriber as the event asks; a short description of what happened."""
    if event.subscriber is None:
        return "no subscriber known for this address"
    sub = store.get_by_id(event.subscriber)
    if sub is None:
        return f"no subscriber with id {event.subscriber}"
    where = f" (campaign {event.campaign})" if event.campaign is not None else ""
    if event.kind == HARD_BOUNCE:
        return _hard(events, store, sub.stored_id, policy, f"hard bounce {event.status}".strip())
    if event.kind == SOFT_BOUNCE:
        score = events.add_soft_bounce(sub.stored_id, policy.soft_bounce_quiet_days)
        if score < policy.soft_bounce_limit:
            return f"soft bounce score {score} of {policy.soft_bounce_limit}"
        events.reset_score(sub.stored_id)
        return _hard(events, store, sub.stored_id, policy,
                     f"{score} soft bounces in a row counted as a hard bounce")
    if event.kind in (COMPLAINT, UNSUBSCRIBE):
        reason = ("complaint (marked as spam)" if event.kind == COMPLAINT else "unsubscribe request by mail") + where
        before = sub.status
        after = store.unsubscribe(sub.stored_id, reason, source=f"feedback:{event.source}")
        return "unsubscribed" if after.status != before else f"already {after.status}"
    if event.kind == DELAY:
        return "recorded (delivery delayed, still being tried)"
    raise ValueError(f"unknown event kind {event.kind!r}")


def _hard(events: EventStore, store: Store, sid: int, policy: Policy, what: str) -> str:
    cleaned = store.record_bounce(sid, policy.bounce_limit)
    after = store.get_by_id(sid)
    count = after.bounces if after else "?"
    if cleaned:
        return f"{what}: cleaned ({count} of {policy.bounce_limit})"
    return f"{what}: {count} of {policy.bounce_limit} bounce(s), status {after.status if after else '?'}"

"""Feedback in the reports people read: per campaign (`newsletter campaigns show ID`) and
per person (`newsletter subscribers show EMAIL`)."""
from __future__ import annotations

from pathlib import Path

from newsletter.feedback.events import COMPLAINT, DELAY, HARD_BOUNCE, SOFT_BOUNCE, UNSUBSCRIBE, EventStore

# Gmail's and Yahoo's bulk-sender rule: keep spam complaints below 0.3 % of delivered mail.
COMPLAINT_LIMIT = 0.003


def campaign_lines(db_path: Path, campaign: int, sent: int) -> list[str]:
    """Bounces, complaints and unsubscribe requests of one campaign, with the complaint rate."""
    with EventStore(db_path) as events:
        counts = events.campaign_counts(campaign)
    lines = ["Feedback (bounces and reports that came back):",
             f"  hard bounces          {counts[HARD_BOUNCE]}",
             f"  soft bounces          {counts[SOFT_BOUNCE]}",
             f"  delivery delays       {counts[DELAY]}",
             f"  complaints            {counts[COMPLAINT]}",
             f"  unsubscribe requests  {counts[UNSUBSCRIBE]}"]
    if sent:
        rate = counts[COMPLAINT] / sent
        verdict = "ABOVE the 0.3 % limit mailbox providers allow" if rate >= COMPLAINT_LIMIT else "below the 0.3 % limit"
        lines.append(f"  complaint rate        {rate:.2%} of {sent} sent ({verdict})")
    else:
        lines.append("  complaint rate        - (nothing sent yet)")
    return lines


def subscriber_lines(db_path: Path, subscriber: int) -> list[str]:
    """The person's feedback events, oldest first."""
    with EventStore(db_path) as events:
        stored = events.for_subscriber(subscriber)
    if not stored:
        return ["  feedback:   -"]
    lines = ["  feedback:"]
    for item in stored:
        e = item.event
        parts = [e.kind, e.status, f"campaign {e.campaign}" if e.campaign is not None else "", f"via {e.source}"]
        lines.append(f"    {item.at}  {' '.join(p for p in parts if p)}: {item.outcome or 'not applied yet'}")
        if e.diagnostic:
            lines.append(f"      {e.diagnostic[:120]}")
    return lines

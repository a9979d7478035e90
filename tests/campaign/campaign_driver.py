"""Runs one campaign in a process of its own, for the kill and concurrency tests:

    python -m tests.campaign.campaign_driver DB PORT   (from the repository root) [--recipients N] [--connections N] [--rate N] [--resend-unknown]

Sends campaign (2026-11, all, smtp) from the journal in DB to recipients reader1..readerN
through the SMTP server on 127.0.0.1:PORT. Prints "started" once the first recipient is done,
then a JSON summary. Exit code: 0 everything delivered, 1 not (yet), 3 another process holds
the campaign - the same codes `newsletter send` uses.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tests.support.delivery import composer_for, make_recipients, sample_settings
from newsletter.campaign.journal import Journal
from newsletter.campaign.runner import CampaignRunner, Progress, RunOptions
from newsletter.delivery.smtp import SmtpAdapter, parse_smtp_url
from newsletter.core.errors import NewsletterError


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("db", type=Path)
    parser.add_argument("port", type=int)
    parser.add_argument("--recipients", type=int, default=100)
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument("--rate", type=float, default=None)
    parser.add_argument("--resend-unknown", action="store_true")
    args = parser.parse_args()

    journal = Journal(args.db)
    campaign = journal.campaign_for("2026-11", "all", "smtp")
    options = RunOptions(connections=args.connections, rate_per_second=args.rate, retry_for_seconds=10,
                         first_backoff_seconds=0.01, max_backoff_seconds=0.1,
                         resend_unknown=args.resend_unknown, lease_seconds=30)
    started = []

    def progress(p: Progress) -> None:
        if not started:
            started.append(True)
            print("started", flush=True)

    adapter = SmtpAdapter(parse_smtp_url(f"smtp://127.0.0.1:{args.port}", timeout=10),
                          connections=args.connections)
    runner = CampaignRunner(journal, adapter, {"en": composer_for(sample_settings(), campaign=str(campaign.id))},
                            envelope_from="bounces@mcin.example.org", options=options, progress=progress)
    try:
        with adapter:
            summary = runner.run(campaign.id, make_recipients(args.recipients))
    except NewsletterError as exc:
        print(f"Error: {exc}", file=sys.stderr, flush=True)
        return getattr(exc, "exit_code", 1)
    print(json.dumps({"sent": summary.sent, "unknown": [r.subscriber for r in summary.unknown],
                      "counts": summary.counts, "paused": summary.paused}), flush=True)
    return 0 if summary.all_delivered else 1


if __name__ == "__main__":
    sys.exit(main())

"""Campaigns: who gets what, exactly once.

In: an edition, a segment and the subscriber store.
``plan`` works out the variants and the recipients, ``journal`` records every recipient's
state in SQLite (pending -> sending -> final, committed per message), ``runner`` hands composed
messages to a delivery adapter with rate limits, retries and pauses.
Out: a per-recipient report; the journal lets a stopped campaign resume without a duplicate.
"""

"""Feedback: what comes back after sending. Bounces, abuse reports (complaints) and mailto
unsubscribe requests from an IMAP mailbox (mailbox.py, reports.py) and from mail services'
webhooks (webhooks.py), all turned into one kind of event (events.py) and applied to the
subscriber list (apply.py). Front room: may import campaign, delivery, subscribers and core."""

"""`newsletter doctor`: is this workspace ready to send, and if not, what to fix, in plain words.

In: the workspace's settings (sender, urls, delivery, dkim). Out: ``Finding``s, each "ok",
"warning" or "problem". Looks at the sender domain's SPF, DKIM and DMARC records (dnspython)
and their alignment with the From address, the public URLs, the delivery adapter (it connects
and logs in, nothing is sent) and whether the signing key is the one published.
"""
from newsletter.doctor.checks import Finding, run_doctor

__all__ = ["Finding", "run_doctor"]

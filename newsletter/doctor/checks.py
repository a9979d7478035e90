"""The doctor's checks. Each returns findings; none raises for what it finds (a missing record
is a finding, not an error). DNS goes through one ``Dns`` object, so tests (and a person who
wants to ask the authoritative server before the caches catch up) can name the server.

Alignment (DMARC, RFC 7489): the From domain and the DKIM d= domain, or the From domain and
the return-path (envelope sender) domain, must share their organisational domain; with
adkim=s / aspf=s they must be equal. The organisational domain is taken as the last two
labels, or three under a two-letter country code with a short second level (co.uk, com.au);
a full public-suffix list is not worth a dependency for this one question.
"""
from __future__ import annotations

import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Callable

import dns.exception
import dns.resolver

from newsletter.compose import dkim as signing
from newsletter.core.config import Workspace
from newsletter.core.errors import NewsletterError
from newsletter.delivery import get_adapter

log = logging.getLogger(__name__)

OK, WARNING, PROBLEM = "ok", "warning", "problem"


@dataclass(frozen=True)
class Finding:
    level: str      # ok | warning | problem
    topic: str      # SPF, DKIM, DMARC, alignment, URL, delivery
    text: str       # plain words: what is so and, for a problem, what to do

    @property
    def is_problem(self) -> bool:
        return self.level == PROBLEM


class DnsFailure(Exception):
    """The DNS server did not answer (timeout, SERVFAIL): nothing can be said about a record."""


class Dns:
    """TXT look-ups through the system's resolver, or through ``nameserver`` (an address,
    optionally with a port) when given."""

    def __init__(self, nameserver: str | None = None, port: int = 53, timeout: float = 5):
        if nameserver:
            self.resolver = dns.resolver.Resolver(configure=False)
            self.resolver.nameservers = [nameserver]
            self.resolver.port = port
        else:
            self.resolver = dns.resolver.Resolver()
        self.resolver.lifetime = timeout
        self.resolver.cache = None

    def txt(self, name: str) -> list[str]:
        """The TXT records at ``name`` (each one's strings joined), [] if there are none."""
        try:
            answer = self.resolver.resolve(name, "TXT")
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except (dns.exception.Timeout, dns.resolver.NoNameservers) as exc:
            raise DnsFailure(f"no answer from DNS for {name}: {exc}") from None
        return [b"".join(r.strings).decode("utf-8", "replace") for r in answer]


def organisational_domain(domain: str) -> str:
    labels = domain.lower().rstrip(".").split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and len(labels[-2]) <= 3:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def aligned(a: str, b: str, strict: bool = False) -> bool:
    a, b = a.lower().rstrip("."), b.lower().rstrip(".")
    return a == b if strict else organisational_domain(a) == organisational_domain(b)


def tags(record: str) -> dict[str, str]:
    """``k=v; k=v`` tags (DKIM, DMARC) with white space removed from values."""
    out = {}
    for part in record.split(";"):
        key, eq, value = part.partition("=")
        if eq:
            out[key.strip().lower()] = "".join(value.split())
    return out


# -- DNS records ----------------------------------------------------------------------------

def check_spf(dns_: Dns, domain: str, adapter: str) -> list[Finding]:
    records = [r for r in dns_.txt(domain) if r.lower().startswith("v=spf1")]
    via_ses = (" With SES, the return path is SES's own domain unless you set a custom MAIL FROM "
               "domain for the identity; SPF then applies to that domain.") if adapter == "ses" else ""
    if not records:
        return [Finding(PROBLEM, "SPF", f"{domain} publishes no SPF record. Add a TXT record at {domain} such as "
                                        f"\"v=spf1 include:<your mail provider's SPF domain> -all\"; Gmail and "
                                        f"Yahoo refuse bulk mail without SPF.{via_ses}")]
    if len(records) > 1:
        return [Finding(PROBLEM, "SPF", f"{domain} publishes {len(records)} SPF records; receivers then treat SPF "
                                        "as broken. Merge them into one TXT record.")]
    spf = records[0]
    terms = spf.lower().split()
    if "+all" in terms or "all" in terms:
        return [Finding(PROBLEM, "SPF", f"the SPF record of {domain} ends with '+all', which lets anyone send as "
                                        f"you: end it with '-all' or '~all'. Record: \"{spf}\"")]
    if not any(t in terms for t in ("-all", "~all")) and not any(t.startswith("redirect=") for t in terms):
        return [Finding(WARNING, "SPF", f"the SPF record of {domain} does not end with '-all' or '~all', so it "
                                        f"says nothing about other senders. Record: \"{spf}\"")]
    return [Finding(OK, "SPF", f"{domain} publishes \"{spf}\".{via_ses}")]


def check_dkim(dns_: Dns, ws: Workspace, from_domain: str, adapter: str) -> tuple[list[Finding], str | None]:
    """Findings, and the d= domain messages are signed with (None: not signed by us)."""
    if ws.settings.dkim is None:
        if adapter == "ses":
            return [Finding(WARNING, "DKIM", "newsletter.yaml has no dkim section, so messages are not signed "
                                             "here; SES signs them only if Easy DKIM is on for "
                                             f"{from_domain} (SES console, Verified identities).")], None
        return [Finding(PROBLEM, "DKIM", "messages are not DKIM-signed: run `newsletter dkim keygen --selector "
                                         "NAME`, publish the record it prints and add the dkim section it "
                                         "shows to newsletter.yaml.")], None
    try:
        signer = signing.signer_for(ws)
    except NewsletterError as exc:
        return [Finding(PROBLEM, "DKIM", str(exc))], ws.settings.dkim.domain or from_domain
    assert signer is not None
    name = signer.dns_name()
    found = [r for r in dns_.txt(name) if "p=" in r]
    if not found:
        return [Finding(PROBLEM, "DKIM", f"no DKIM record at {name}: publish the TXT record that `newsletter dkim "
                                         f"keygen` printed (value: {signer.dns_record()})")], signer.domain
    published = tags(found[0])
    mine = tags(signer.dns_record())
    if not published.get("p"):
        return [Finding(PROBLEM, "DKIM", f"the DKIM record at {name} is revoked (empty p=): publish the current "
                                         f"key's record: {signer.dns_record()}")], signer.domain
    if published.get("k", "rsa") != mine["k"] or published["p"] != mine["p"]:
        return [Finding(PROBLEM, "DKIM", f"the key published at {name} is not the signing key in "
                                         f"{ws.dkim_key_file}: receivers will reject the signatures. Publish "
                                         f"this value instead: {signer.dns_record()}")], signer.domain
    return [Finding(OK, "DKIM", f"the key at {name} matches {ws.dkim_key_file.name} ({signer.algorithm})")], \
        signer.domain


def check_dmarc(dns_: Dns, from_domain: str, dkim_domain: str | None, return_domain: str) -> list[Finding]:
    where = f"_dmarc.{from_domain}"
    records = [r for r in dns_.txt(where) if r.lower().startswith("v=dmarc1")]
    org = organisational_domain(from_domain)
    if not records and org != from_domain:
        where = f"_dmarc.{org}"
        records = [r for r in dns_.txt(where) if r.lower().startswith("v=dmarc1")]
    findings = []
    if not records:
        findings.append(Finding(PROBLEM, "DMARC", f"no DMARC record at _dmarc.{from_domain}: Gmail and Yahoo require "
                                                  f"one of bulk senders. Start with a TXT record at _dmarc.{from_domain}: "
                                                  f"\"v=DMARC1; p=none; rua=mailto:dmarc@{from_domain}\""))
        policy: dict[str, str] = {}
    elif len(records) > 1:
        findings.append(Finding(PROBLEM, "DMARC", f"{where} has {len(records)} DMARC records; receivers ignore them "
                                                  "all. Keep one."))
        policy = {}
    else:
        policy = tags(records[0])
        if policy.get("p") not in ("none", "quarantine", "reject"):
            findings.append(Finding(PROBLEM, "DMARC", f"the DMARC record at {where} has no valid p= policy "
                                                      f"(none, quarantine or reject): \"{records[0]}\""))
        else:
            findings.append(Finding(OK, "DMARC", f"{where} publishes \"{records[0]}\""))
    return findings + check_alignment(from_domain, dkim_domain, return_domain, policy)


def check_alignment(from_domain: str, dkim_domain: str | None, return_domain: str,
                    policy: dict[str, str]) -> list[Finding]:
    strict_dkim, strict_spf = policy.get("adkim") == "s", policy.get("aspf") == "s"
    findings = []
    dkim_ok = dkim_domain is not None and aligned(dkim_domain, from_domain, strict_dkim)
    spf_ok = aligned(return_domain, from_domain, strict_spf)
    if dkim_domain is not None and not dkim_ok:
        mode = "equal (adkim=s)" if strict_dkim else "in the same organisational domain"
        findings.append(Finding(PROBLEM, "alignment", f"messages are signed for {dkim_domain}, but the From address is "
                                                      f"at {from_domain}: DMARC needs the two {mode}. Set dkim.domain "
                                                      f"to {from_domain} (and publish its key there)."))
    elif dkim_ok:
        findings.append(Finding(OK, "alignment", f"DKIM d={dkim_domain} is aligned with From ({from_domain})"))
    if not spf_ok:
        findings.append(Finding(WARNING if dkim_ok else PROBLEM, "alignment",
                                f"the return path ({return_domain}) is not aligned with From ({from_domain})"
                                + ("; DKIM alignment is enough for DMARC." if dkim_ok else
                                   ", and neither is a DKIM signature: DMARC fails for every message.")))
    else:
        findings.append(Finding(OK, "alignment", f"the return path ({return_domain}) is aligned with From"))
    return findings


# -- URLs and the adapter -------------------------------------------------------------------

def check_url(label: str, url: str, *, page: bool, timeout: float) -> Finding:
    """``page``: it must show a page (2xx); else any answer but 'not found' or a server error
    counts (an unsubscribe endpoint may refuse a request without a token)."""
    if url.startswith("http:"):
        warn = " It is plain HTTP: mail providers ignore one-click unsubscribe that is not HTTPS." \
            if label == "unsubscribe" else " It is plain HTTP, not HTTPS."
    else:
        warn = ""
    request = urllib.request.Request(url, headers={"User-Agent": "newsletter-doctor"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return Finding(PROBLEM, "URL", f"the {label} address {url} does not answer ({reason}).")
    bad = status >= 500 or status in (404, 410) or (page and status >= 400)
    if bad:
        return Finding(PROBLEM, "URL", f"the {label} address {url} answers {status}; readers following it "
                                       "get an error page.")
    return Finding(WARNING if warn else OK, "URL", f"the {label} address {url} answers ({status}).{warn}")


def check_urls(ws: Workspace, timeout: float) -> list[Finding]:
    urls = ws.settings.urls
    findings = [check_url("archive", urls.archive, page=True, timeout=timeout),
                check_url("unsubscribe", urls.unsubscribe, page=False, timeout=timeout)]
    if urls.preferences:
        findings.append(check_url("preferences", urls.preferences, page=False, timeout=timeout))
    return findings


def check_adapter(ws: Workspace, name: str, options: dict[str, Any]) -> list[Finding]:
    if name in ("outbox", "console"):
        return [Finding(WARNING, "delivery", f"the {name} adapter does not send to readers (delivery.adapter in "
                                             "newsletter.yaml, or --adapter): fine for trying, not for a campaign.")]
    try:
        adapter = get_adapter(name, ws, **options)
        adapter.open()
        described = adapter.describe()
        adapter.close()
    except NewsletterError as exc:
        return [Finding(PROBLEM, "delivery", f"the {name} adapter cannot send: {exc}")]
    return [Finding(OK, "delivery", f"connected and logged in: {described} (nothing was sent)")]


# -- all of it ------------------------------------------------------------------------------

def return_path_domain(ws: Workspace) -> str:
    """The envelope sender's domain: the bounce domain where one is set (VERP), else the From
    address's."""
    bounce = getattr(ws.settings.delivery, "bounce_domain", None)
    return bounce or ws.settings.sender.from_address.rpartition("@")[2]


def run_doctor(ws: Workspace, *, dns_: Dns | None = None, adapter: str | None = None, urls: bool = True,
               check_delivery: bool = True, timeout: float = 10,
               adapter_options: dict[str, Any] | None = None,
               progress: Callable[[str], None] = lambda _: None) -> list[Finding]:
    dns_ = dns_ or Dns(timeout=timeout)
    name = adapter or ws.settings.delivery.adapter
    from_domain = ws.settings.sender.from_address.rpartition("@")[2].lower()
    findings: list[Finding] = []
    progress(f"DNS records of {from_domain}")
    try:
        return_domain = return_path_domain(ws)
        findings += check_spf(dns_, return_domain, name)
        dkim_findings, dkim_domain = check_dkim(dns_, ws, from_domain, name)
        findings += dkim_findings
        findings += check_dmarc(dns_, from_domain, dkim_domain, return_domain)
    except DnsFailure as exc:
        findings.append(Finding(PROBLEM, "DNS", f"{exc}; check the network or name another server with --nameserver"))
    if urls:
        progress("public addresses")
        findings += check_urls(ws, timeout)
    if check_delivery:
        progress(f"the {name} adapter")
        findings += check_adapter(ws, name, adapter_options or {})
    return findings


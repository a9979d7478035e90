"""`newsletter doctor` against a DNS server on loopback (dnslib), a local web server for the
public addresses and an aiosmtpd server for the adapter: a domain set up right, then each
missing, broken or misaligned record on its own."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner

from newsletter.cli import main
from newsletter.compose import dkim as signing
from newsletter.doctor.checks import aligned, check_alignment, organisational_domain
from tests.support.dns import LocalDns
from tests.support.smtp_servers import free_port

DOMAIN = "mcin.example.org"
SELECTOR = "nov2026"


@pytest.fixture
def web() -> Iterator[str]:
    """Archive and preferences pages (200) and an unsubscribe endpoint that refuses a
    request without a token (400), like `newsletter serve`."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            status = {"/newsletter": 200, "/newsletter/preferences": 200, "/newsletter/unsubscribe": 400}.get(path, 404)
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def ready_ws(sample_ws: Path, web: str, smtp_server) -> tuple[Path, signing.DkimSigner]:
    """The sample workspace with a signing key, its public addresses on ``web`` and SMTP
    delivery to a local server."""
    key = signing.generate_key("rsa")
    signing.write_key(key, sample_ws / "dkim" / f"{SELECTOR}.key")
    settings = sample_ws / "newsletter.yaml"
    text = settings.read_text().replace("https://mcin.example.org/newsletter", f"{web}/newsletter")
    text = text.replace("adapter: outbox", f"adapter: smtp\n  smtp_url: smtp://127.0.0.1:{smtp_server.port}")
    settings.write_text(text + f"dkim:\n  selector: {SELECTOR}\n")
    return sample_ws, signing.DkimSigner(key, DOMAIN, SELECTOR)


def good_zone(signer: signing.DkimSigner) -> dict[tuple[str, str], list[str]]:
    return {(DOMAIN, "TXT"): ["v=spf1 mx include:_spf.mail.example.net -all"],
            (signer.dns_name(), "TXT"): [signer.dns_record()],
            (f"_dmarc.{DOMAIN}", "TXT"): [f"v=DMARC1; p=quarantine; rua=mailto:dmarc@{DOMAIN}"]}


def doctor(ws: Path, zone, *args: str) -> tuple[int, str]:
    with LocalDns(zone) as dns_server:
        result = CliRunner().invoke(main, ["-C", str(ws), "doctor", "--nameserver",
                                           f"127.0.0.1:{dns_server.port}", "--timeout", "3", *args])
    return result.exit_code, result.output


def problems(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("PROBLEM")]


def test_a_domain_set_up_right_is_ready(ready_ws):
    ws, signer = ready_ws
    code, out = doctor(ws, good_zone(signer))
    assert code == 0, out
    assert "Ready to send." in out and not problems(out)
    for topic in ("SPF:", "DKIM:", "DMARC:", "alignment:", "delivery:"):
        assert any(line.startswith("ok") and topic in line for line in out.splitlines()), (topic, out)
    # The local web server speaks plain HTTP: answered, with a note that it is not HTTPS.
    urls = [line for line in out.splitlines() if "URL:" in line]
    assert len(urls) == 3 and all(line.startswith("note") and "answers (" in line for line in urls), out
    assert "connected and logged in" in out and "matches" in out


def other_key_record() -> str:
    return signing.dns_record_for(signing.generate_key("rsa").public_key())


@pytest.mark.parametrize("change, words", [
    (lambda z, s: z.pop((DOMAIN, "TXT")), "publishes no SPF record"),
    (lambda z, s: z[(DOMAIN, "TXT")].append("v=spf1 -all"), "2 SPF records"),
    (lambda z, s: z.__setitem__((DOMAIN, "TXT"), ["v=spf1 +all"]), "lets anyone send as you"),
    (lambda z, s: z.pop((s.dns_name(), "TXT")), f"no DKIM record at {SELECTOR}._domainkey.{DOMAIN}"),
    (lambda z, s: z.__setitem__((s.dns_name(), "TXT"), [other_key_record()]), "is not the signing key"),
    (lambda z, s: z.__setitem__((s.dns_name(), "TXT"), ["v=DKIM1; k=rsa; p="]), "revoked"),
    (lambda z, s: z.__setitem__((s.dns_name(), "TXT"), [s.dns_record().replace("k=rsa", "k=ed25519")]),
     "is not the signing key"),
    (lambda z, s: z.pop((f"_dmarc.{DOMAIN}", "TXT")), "no DMARC record"),
    (lambda z, s: z.__setitem__((f"_dmarc.{DOMAIN}", "TXT"), ["v=DMARC1; rua=mailto:x@example.org"]), "no valid p="),
], ids=["spf-missing", "spf-twice", "spf-plus-all", "dkim-missing", "dkim-other-key", "dkim-revoked",
        "dkim-other-type", "dmarc-missing", "dmarc-no-policy"])
def test_each_missing_or_broken_record_is_a_problem(ready_ws, change, words):
    ws, signer = ready_ws
    zone = good_zone(signer)
    change(zone, signer)
    code, out = doctor(ws, zone, "--skip-urls", "--skip-delivery")
    assert code == 1
    assert len(problems(out)) == 1 and words in problems(out)[0], out
    assert "1 problem(s) to fix" in out


def test_a_signature_for_another_domain_is_misaligned(ready_ws):
    ws, signer = ready_ws
    settings = ws / "newsletter.yaml"
    settings.write_text(settings.read_text() + "  domain: mail-provider.example.net\n")
    other = signing.DkimSigner(signer.key, "mail-provider.example.net", SELECTOR)
    zone = good_zone(signer)
    zone[(other.dns_name(), "TXT")] = [other.dns_record()]
    code, out = doctor(ws, zone, "--skip-urls", "--skip-delivery")
    assert code == 1
    assert [p for p in problems(out) if "signed for mail-provider.example.net" in p and "alignment" in p]


def test_strict_dkim_alignment_needs_the_same_domain(ready_ws):
    ws, signer = ready_ws
    settings = ws / "newsletter.yaml"
    settings.write_text(settings.read_text() + "  domain: example.org\n")
    other = signing.DkimSigner(signer.key, "example.org", SELECTOR)
    zone = good_zone(signer)
    zone[(other.dns_name(), "TXT")] = [other.dns_record()]
    assert doctor(ws, zone, "--skip-urls", "--skip-delivery")[0] == 0        # relaxed: same organisation
    zone[(f"_dmarc.{DOMAIN}", "TXT")] = ["v=DMARC1; p=reject; adkim=s"]
    code, out = doctor(ws, zone, "--skip-urls", "--skip-delivery")
    assert code == 1 and "equal (adkim=s)" in out


def test_a_misaligned_return_path_is_a_problem_only_without_aligned_dkim():
    both_off = check_alignment(DOMAIN, None, "bounces.esp.example.net", {})
    assert [f.level for f in both_off] == ["problem"] and "DMARC fails for every message" in both_off[0].text
    dkim_saves = check_alignment(DOMAIN, DOMAIN, "bounces.esp.example.net", {})
    assert [f.level for f in dkim_saves] == ["ok", "warning"]
    strict = check_alignment(DOMAIN, DOMAIN, "bounce.mcin.example.org", {"aspf": "s"})
    assert strict[1].level == "warning" and "not aligned" in strict[1].text
    assert [f.level for f in check_alignment(DOMAIN, DOMAIN, "bounce.mcin.example.org", {})] == ["ok", "ok"]


def test_organisational_domains():
    assert organisational_domain("news.mcin.example.org") == "example.org"
    assert organisational_domain("mail.verein.co.uk") == "verein.co.uk"
    assert aligned("bounce.mcin.example.org", "mcin.example.org")
    assert not aligned("bounce.mcin.example.org", "mcin.example.org", strict=True)
    assert not aligned("example.net", "example.org")


def test_public_addresses_and_the_adapter_are_checked(ready_ws, web):
    ws, signer = ready_ws
    settings = ws / "newsletter.yaml"
    closed = free_port()
    text = settings.read_text().replace(f"{web}/newsletter/unsubscribe", f"http://127.0.0.1:{closed}/unsubscribe")
    text = text.replace(f"archive: {web}/newsletter", f"archive: {web}/missing")
    text = text.replace("smtp://127.0.0.1:", f"smtp://127.0.0.1:{closed}#")
    settings.write_text(text)
    code, out = doctor(ws, good_zone(signer))
    found = problems(out)
    assert code == 1 and len(found) == 3, out
    assert any("archive address" in p and "answers 404" in p for p in found)
    assert any("unsubscribe address" in p and "does not answer" in p for p in found)
    assert any("smtp adapter cannot send" in p for p in found)


def test_without_a_dkim_section_the_doctor_says_how_to_sign(sample_ws):
    code, out = doctor(sample_ws, {(DOMAIN, "TXT"): ["v=spf1 -all"]}, "--skip-urls")
    assert code == 1
    assert any("newsletter dkim keygen" in p for p in problems(out))
    assert "outbox adapter does not send to readers" in out

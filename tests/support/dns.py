"""A small authoritative DNS server on loopback (dnslib), for the DKIM and doctor tests, and a
way to run OpenDKIM's ``opendkim-testmsg`` against it.

``opendkim-testmsg`` has no resolver option: libopendkim asks the C library's resolver, which
reads /etc/resolv.conf and always uses port 53. So ``opendkim_verify`` runs it inside a
private mount and network namespace (``unshare -m -n``, util-linux, as root): there
/etc/resolv.conf is bind-mounted to "nameserver 127.0.0.1", the namespace's own loopback is
brought up, and this module's server answers on its port 53. Nothing outside the namespace is
touched or reached.

    python -m tests.support.dns ZONE.json MESSAGE...   (inside the namespace; prints JSON)
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Mapping

from dnslib import QTYPE, RCODE, RR, TXT, A, MX
from dnslib.server import BaseResolver, DNSLogger, DNSServer

# (name, type) -> record texts; names end without a dot and are compared without case.
Zone = Mapping[tuple[str, str], list[str]]


def txt_record(text: str) -> TXT:
    """A TXT record holding ``text`` in strings of at most 255 bytes, as DNS requires."""
    data = text.encode("utf-8")
    return TXT([data[i:i + 255] for i in range(0, len(data), 255)] or [b""])


class ZoneResolver(BaseResolver):
    def __init__(self, zone: Zone):
        self.zone = {(name.lower().rstrip("."), kind.upper()): texts for (name, kind), texts in zone.items()}
        self.queries: list[tuple[str, str]] = []

    def resolve(self, request, handler):  # noqa: ANN001 - dnslib's interface
        reply = request.reply()
        name = str(request.q.qname).lower().rstrip(".")
        kind = QTYPE[request.q.qtype]
        self.queries.append((name, kind))
        texts = self.zone.get((name, kind))
        if texts is None:
            known = any(n == name for n, _ in self.zone)
            if not known:
                reply.header.rcode = RCODE.NXDOMAIN
            return reply
        for text in texts:
            reply.add_answer(RR(request.q.qname, request.q.qtype, rdata=_rdata(kind, text), ttl=60))
        return reply


def _rdata(kind: str, text: str):  # noqa: ANN202
    if kind == "TXT":
        return txt_record(text)
    if kind == "A":
        return A(text)
    if kind == "MX":
        preference, _, host = text.partition(" ")
        return MX(host, int(preference))
    raise ValueError(f"the test DNS server does not serve {kind} records")


class LocalDns:
    """The server on 127.0.0.1 (UDP and TCP, one port); ``port`` is the one it got."""

    def __init__(self, zone: Zone, port: int = 0, address: str = "127.0.0.1"):
        self.resolver = ZoneResolver(zone)
        logger = DNSLogger(log="-request,-reply,-truncated,-error,-recv,-send,-data", prefix=False)
        self.udp = DNSServer(self.resolver, address=address, port=port, logger=logger)
        self.port = self.udp.server.server_address[1]
        self.tcp = DNSServer(self.resolver, address=address, port=self.port, tcp=True, logger=logger)
        self.address = address

    def __enter__(self) -> LocalDns:
        self.udp.start_thread()
        self.tcp.start_thread()
        return self

    def __exit__(self, *exc: object) -> None:
        for server in (self.udp, self.tcp):
            server.server.shutdown()
            server.server.server_close()


# -- opendkim-testmsg in its own namespaces ------------------------------------------------

OPENDKIM = "/usr/sbin/opendkim-testmsg"


def opendkim_available() -> bool:
    """opendkim-testmsg is installed and this process may make namespaces (root)."""
    if not (os.path.exists(OPENDKIM) and shutil.which("unshare") and shutil.which("mount")):
        return False
    probe = subprocess.run(["unshare", "-m", "-n", "true"], capture_output=True, timeout=30)
    return probe.returncode == 0


def opendkim_verify(messages: list[bytes], zone: Zone) -> list[tuple[int, str]]:
    """(exit code, output) of ``opendkim-testmsg`` verifying each message, with DNS answered
    from ``zone``. Exit code 0 means every signature verified."""
    with tempfile.TemporaryDirectory(prefix="opendkim-") as tmp:
        folder = Path(tmp)
        zone_file = folder / "zone.json"
        zone_file.write_text(json.dumps([[n, k, t] for (n, k), t in zone.items()]))
        paths = []
        for i, message in enumerate(messages):
            paths.append(folder / f"{i}.eml")
            paths[-1].write_bytes(message)
        root = Path(__file__).resolve().parents[2]
        run = subprocess.run(["unshare", "-m", "-n", sys.executable, "-m", "tests.support.dns",
                              str(zone_file), *map(str, paths)],
                             cwd=root, capture_output=True, text=True, timeout=300)
        if run.returncode != 0:
            raise RuntimeError(f"the namespace runner failed ({run.returncode}): {run.stderr.strip()}")
        return [tuple(r) for r in json.loads(run.stdout)]


def _loopback_up() -> None:
    """``ip link set lo up`` without needing iproute2: SIOCGIFFLAGS, then SIOCSIFFLAGS | IFF_UP."""
    import fcntl
    import socket
    import struct

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(sock, 0x8913, request))[1]
        fcntl.ioctl(sock, 0x8914, struct.pack("16sH14x", b"lo", flags | 0x1))


def _inside_namespace(zone_file: Path, messages: list[Path]) -> list[tuple[int, str]]:
    _loopback_up()
    resolv = zone_file.with_name("resolv.conf")
    resolv.write_text("nameserver 127.0.0.1\noptions attempts:1 timeout:2\n")
    subprocess.run(["mount", "--bind", str(resolv), "/etc/resolv.conf"], check=True)
    zone = {(n, k): t for n, k, t in json.loads(zone_file.read_text())}
    results = []
    with LocalDns(zone, port=53):
        for path in messages:
            with path.open("rb") as fh:
                run = subprocess.run([OPENDKIM], stdin=fh, capture_output=True, text=True, timeout=60)
            results.append((run.returncode, (run.stdout + run.stderr).strip()))
    return results


if __name__ == "__main__":
    print(json.dumps(_inside_namespace(Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]])))

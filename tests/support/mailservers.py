"""Real mail servers for the feedback tests (a pytest plugin loaded by tests/conftest.py):
Debian's Postfix and Dovecot, each started from a configuration directory of its own under a
temporary folder, listening on free loopback ports, never the system's mail service.

Postfix relays what it is given to a test SMTP server (``relayhost``) and delivers mail for
the bounce domain (the VERP return path) into a Maildir; Dovecot serves that Maildir over
IMAP with TLS. Postfix's queue times are shortened so a delay notice and a failure notice for
a 4xx reply arrive within about a minute.

Both want root (Postfix's master drops to ``mail_owner``; Dovecot to its own users), so the
fixtures skip without it outside CI (``require_tool``). Fixtures: ``mail_store`` (the Maildir
and TLS files), ``dovecot_server``, ``postfix_server``; each started once per session."""
from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

POSTFIX = Path("/usr/sbin/postfix")
DOVECOT = Path("/usr/sbin/dovecot")
BOUNCE_DOMAIN = "bounces.mcin.example.org"
IMAP_USER, IMAP_PASSWORD = "feedback", "imap pässword 1"
MAILBOX_OWNER = "nobody"   # Postfix's virtual agent writes the Maildir as this user; Dovecot reads as it


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, what: str, log: Path | None, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port}\n{tail}")


def servers_available() -> tuple[bool, str]:
    if not (POSTFIX.exists() and DOVECOT.exists()):
        return False, "Postfix and Dovecot (Debian's postfix, dovecot-imapd)"
    if os.geteuid() != 0:
        return False, "root (Postfix and Dovecot start as root and drop privileges)"
    return True, ""


@dataclass
class PostfixServer:
    """A running Postfix: ``port`` takes mail from anyone on loopback; ``relay_port`` is where
    it relays everything not for the bounce domain; ``mail_dir`` is the Maildir that mail to
    ``bounce+...@bounces.mcin.example.org`` lands in."""

    config_dir: Path
    port: int
    relay_port: int
    mail_dir: Path
    log: Path

    def flush(self) -> None:
        """Ask Postfix to retry its deferred mail now."""
        subprocess.run([str(POSTFIX), "-c", str(self.config_dir), "flush"], capture_output=True)

    def queue_empty(self) -> bool:
        queue = self.config_dir / "queue"
        return not any(p.is_file() for d in ("incoming", "active", "deferred", "maildrop")
                       for p in (queue / d).rglob("*"))

    def stop(self) -> None:
        subprocess.run([str(POSTFIX), "-c", str(self.config_dir), "stop"], capture_output=True)


def start_postfix(base: Path, relay_port: int, mail_dir: Path) -> PostfixServer:
    conf = base / "postfix"
    conf.mkdir()
    port = _free_port()
    owner = pwd.getpwnam(MAILBOX_OWNER)
    log = conf / "maillog"
    main = {
        "compatibility_level": "3.6",
        "queue_directory": conf / "queue",
        "data_directory": conf / "data",
        "mail_owner": "postfix",
        "setgid_group": "postdrop",
        "myhostname": "mta.newsletter.test",
        "mydomain": "newsletter.test",
        "myorigin": "$myhostname",
        "mydestination": "",
        "inet_interfaces": "127.0.0.1",
        "inet_protocols": "ipv4",
        "mynetworks": "127.0.0.0/8",
        "smtpd_relay_restrictions": "permit_mynetworks, reject",
        "relayhost": f"[127.0.0.1]:{relay_port}",
        "smtp_dns_support_level": "disabled",
        "smtp_tls_security_level": "none",
        "alias_maps": "", "alias_database": "",
        "local_recipient_maps": "",
        "virtual_mailbox_domains": BOUNCE_DOMAIN,
        "virtual_mailbox_base": mail_dir.parent,
        "virtual_mailbox_maps": f"static:{mail_dir.name}/",
        "virtual_uid_maps": f"static:{owner.pw_uid}",
        "virtual_gid_maps": f"static:{owner.pw_gid}",
        "virtual_minimum_uid": "1",
        "biff": "no",
        "maillog_file": log,
        "maillog_file_prefixes": conf,
        # Short queue times: a deferred message is retried every few seconds, the sender is
        # warned after 5 s and the message is returned after 25 s.
        "queue_run_delay": "2s",
        "minimal_backoff_time": "2s",
        "maximal_backoff_time": "4s",
        "delay_warning_time": "5s",
        "maximal_queue_lifetime": "25s",
        "bounce_queue_lifetime": "25s",
        "smtp_connect_timeout": "5s",
    }
    (conf / "main.cf").write_text("".join(f"{k} = {v}\n" for k, v in main.items()))
    (conf / "master.cf").write_text(_master_cf(port))
    (conf / "dynamicmaps.cf").write_text("")
    (conf / "data").mkdir()
    (conf / "queue").mkdir()
    env = dict(os.environ, MAIL_CONFIG=str(conf))
    subprocess.run([str(POSTFIX), "-c", str(conf), "set-permissions"], env=env, capture_output=True)
    with open(conf / "start.log", "wb") as out:
        done = subprocess.run([str(POSTFIX), "-c", str(conf), "start"], env=env, stdout=out, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise RuntimeError(f"postfix start failed: {tail}")
    _wait_port(port, "Postfix", log)
    return PostfixServer(conf, port, relay_port, mail_dir, log)


def _master_cf(port: int) -> str:
    """Debian's services, none chrooted (the configuration lives outside /var/spool/postfix),
    with the SMTP listener on ``port``."""
    services = [
        (f"127.0.0.1:{port}", "inet", "n", "-", "n", "-", "-", "smtpd"),
        ("pickup", "unix", "n", "-", "n", "60", "1", "pickup"),
        ("cleanup", "unix", "n", "-", "n", "-", "0", "cleanup"),
        ("qmgr", "unix", "n", "-", "n", "300", "1", "qmgr"),
        ("rewrite", "unix", "-", "-", "n", "-", "-", "trivial-rewrite"),
        ("bounce", "unix", "-", "-", "n", "-", "0", "bounce"),
        ("defer", "unix", "-", "-", "n", "-", "0", "bounce"),
        ("trace", "unix", "-", "-", "n", "-", "0", "bounce"),
        ("verify", "unix", "-", "-", "n", "-", "1", "verify"),
        ("flush", "unix", "n", "-", "n", "1000?", "0", "flush"),
        ("proxymap", "unix", "-", "-", "n", "-", "-", "proxymap"),
        ("smtp", "unix", "-", "-", "n", "-", "-", "smtp"),
        ("relay", "unix", "-", "-", "n", "-", "-", "smtp"),
        ("showq", "unix", "n", "-", "n", "-", "-", "showq"),
        ("error", "unix", "-", "-", "n", "-", "-", "error"),
        ("retry", "unix", "-", "-", "n", "-", "-", "error"),
        ("discard", "unix", "-", "-", "n", "-", "-", "discard"),
        ("local", "unix", "-", "n", "n", "-", "-", "local"),
        ("virtual", "unix", "-", "n", "n", "-", "-", "virtual"),
        ("anvil", "unix", "-", "-", "n", "-", "1", "anvil"),
        ("scache", "unix", "-", "-", "n", "-", "1", "scache"),
        ("postlog", "unix-dgram", "n", "-", "n", "-", "1", "postlogd"),
    ]
    return "".join("  ".join(row) + "\n" for row in services)


@dataclass
class DovecotServer:
    """A running Dovecot: IMAP over implicit TLS on ``port`` for IMAP_USER / IMAP_PASSWORD,
    whose INBOX is ``mail_dir``; ``cafile`` is the certificate a client must trust."""

    config: Path
    port: int
    mail_dir: Path
    cafile: Path
    log: Path

    def stop(self) -> None:
        subprocess.run([str(DOVECOT), "-c", str(self.config), "stop"], capture_output=True)


def start_dovecot(base: Path, mail_dir: Path, cert: Path, key: Path) -> DovecotServer:
    conf = base / "dovecot"
    conf.mkdir()
    port = _free_port()
    owner = pwd.getpwnam(MAILBOX_OWNER)
    users = conf / "users"
    users.write_text(f"{IMAP_USER}:{{PLAIN}}{IMAP_PASSWORD}:{owner.pw_uid}:{owner.pw_gid}::{mail_dir.parent}\n")
    users.chmod(0o640)
    shutil.chown(users, group="dovecot")
    log = conf / "dovecot.log"
    config = conf / "dovecot.conf"
    config.write_text(f"""\
base_dir = {conf}/run
state_dir = {conf}/state
log_path = {log}
instance_name = newsletter-test-{port}
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
auth_mechanisms = plain
first_valid_uid = 1
mail_location = maildir:{mail_dir}
default_internal_user = dovecot
default_login_user = dovenull
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {users}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {users}
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
protocol imap {{
  mail_max_userip_connections = 50
}}
""")
    (conf / "state").mkdir()
    # The daemon keeps its standard streams: send them to a file, not to a pipe we wait on.
    with open(conf / "start.log", "wb") as out:
        done = subprocess.run([str(DOVECOT), "-c", str(config)], stdout=out, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        raise RuntimeError(f"dovecot failed to start: {(conf / 'start.log').read_text(errors='replace')}")
    _wait_port(port, "Dovecot", log)
    return DovecotServer(config, port, mail_dir, cert, log)


@dataclass
class MailStore:
    """The Maildir both servers share, in a folder every daemon user can reach (pytest's
    tmp folders are private to root), and the TLS files Dovecot presents."""

    base: Path
    mail_dir: Path
    cert: Path
    key: Path


@pytest.fixture(scope="session")
def mail_store(tls_files) -> Iterator[MailStore]:
    from tests.conftest import require_tool

    ok, what = servers_available()
    require_tool(ok, what)
    base = Path(tempfile.mkdtemp(prefix="newsletter-mail-"))
    base.chmod(0o755)
    owner = pwd.getpwnam(MAILBOX_OWNER)
    mail_dir = base / "mail" / "feedback"
    for folder in (mail_dir.parent, mail_dir, mail_dir / "cur", mail_dir / "new", mail_dir / "tmp"):
        folder.mkdir(parents=True, exist_ok=True)
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    tls_dir = base / "tls"
    tls_dir.mkdir()
    shutil.copy(tls_files[0], tls_dir / "cert.pem")
    shutil.copy(tls_files[1], tls_dir / "key.pem")
    try:
        yield MailStore(base, mail_dir, tls_dir / "cert.pem", tls_dir / "key.pem")
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def dovecot_server(mail_store: MailStore) -> Iterator[DovecotServer]:
    """Dovecot serving the shared Maildir over IMAPS on a loopback port; once per session."""
    server = start_dovecot(mail_store.base, mail_store.mail_dir, mail_store.cert, mail_store.key)
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Relay:
    """The aiosmtpd server Postfix relays to (``handler`` records what it accepted)."""

    controller: Any
    handler: Any
    port: int


@pytest.fixture(scope="session")
def postfix_server(mail_store: MailStore) -> Iterator[tuple[PostfixServer, Relay]]:
    """Postfix relaying to an aiosmtpd server that answers 550 5.1.1 to addresses starting
    "gone", 452 4.2.2 to those starting "full" and 250 to the rest, and delivering mail for
    the bounce domain into the shared Maildir; once per session."""
    from aiosmtpd.controller import Controller

    handler = _ReplyingRecorder()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, enable_SMTPUTF8=False)
    controller.start()
    server = None
    try:
        server = start_postfix(mail_store.base, port, mail_store.mail_dir)
        yield server, Relay(controller, handler, port)
    finally:
        if server is not None:
            server.stop()
        controller.stop()


def _replying_recorder_class() -> type:
    from tests.support.smtp_servers import Recorder

    class ReplyingRecorder(Recorder):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            local = address.partition("@")[0].lower()
            if local.startswith("gone"):
                return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
            if local.startswith("full"):
                return f"452 4.2.2 <{address}>: Mailbox full, try again later"
            return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    return ReplyingRecorder


_ReplyingRecorder = _replying_recorder_class()

"""`newsletter feedback fetch`: read the feedback mailbox over IMAP with TLS.

Every message is handled once: it is remembered by its Message-ID (in the workspace database)
and, once understood, moved to ``feedback.mailbox.processed_folder`` (or flagged ``\\Seen``
and ``$NewsletterDone`` where no folder is set). A message that cannot be understood is
flagged ``$NewsletterUnknown`` and stays where it is, for a person to read: it is counted,
never deleted. Order of work per message: events stored (idempotent), message remembered,
message moved; a run that stops anywhere in between is completed by the next one.
"""
from __future__ import annotations

import imaplib
import logging
import re
import ssl
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterator

from newsletter.core.config import Mailbox, Workspace, env_secret
from newsletter.core.errors import ConfigError, MailboxError
from newsletter.feedback import reports
from newsletter.feedback.apply import Policy, Recorded, apply_pending, record
from newsletter.feedback.events import EventStore
from newsletter.subscribers.store import Store

log = logging.getLogger(__name__)
PASSWORD_ENV = "NEWSLETTER_IMAP_PASSWORD"
DONE_FLAG = "$NewsletterDone"
UNKNOWN_FLAG = "$NewsletterUnknown"
BATCH = 50


@dataclass
class FetchSummary:
    """What one fetch did."""

    messages: int = 0                     # in the folder, not yet handled
    verdicts: Counter[str] = field(default_factory=Counter)
    recorded: list[Recorded] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)      # summaries of what was not understood
    seen_before: int = 0
    still_unknown: int = 0                # not understood earlier, still waiting for a person
    applied_pending: int = 0
    dry_run: bool = False

    @property
    def new_events(self) -> list[Recorded]:
        return [r for r in self.recorded if r.new]


def reading_context(ws: Workspace, store: Store) -> reports.Context:
    settings = ws.settings

    def find(email: str) -> int | None:
        sub = store.get(email)
        return sub.stored_id if sub is not None else None

    mailto = settings.urls.unsubscribe_mailto
    if mailto and mailto.lower().startswith("mailto:"):
        mailto = mailto[len("mailto:"):]
    return reports.Context(ws.secrets.secret_key, settings.list_id, settings.delivery.bounce_domain,
                           (mailto or "").partition("?")[0] or None, find)


def fetch(ws: Workspace, *, dry_run: bool = False, ssl_context: ssl.SSLContext | None = None,
          progress: Callable[[int, int], None] | None = None) -> FetchSummary:
    """Read the feedback mailbox once; see the module documentation."""
    settings = ws.settings.feedback.mailbox
    if settings is None:
        raise ConfigError("newsletter.yaml has no feedback.mailbox: set host and username there "
                          f"and the password in {PASSWORD_ENV} (docs/feedback.md)")
    password = env_secret(PASSWORD_ENV)
    if not password:
        raise ConfigError(f"the feedback mailbox needs a password: set {PASSWORD_ENV} "
                          f"(or {PASSWORD_ENV}_FILE) in the environment")
    context = ssl_context or _context(ws, settings)
    summary = FetchSummary(dry_run=dry_run)
    with Store.open(ws) as store, EventStore(ws.db_path) as events:
        policy = Policy.from_settings(ws.settings)
        if not dry_run:
            summary.applied_pending = apply_pending(events, store, policy)
        ctx = reading_context(ws, store)
        with _Session(settings, password, context, readonly=dry_run) as session:
            uids = session.uids()
            for done, (uid, raw) in enumerate(session.messages(uids), start=1):
                _handle(session, uid, raw, ctx, events, store, policy, summary)
                if progress:
                    progress(done, len(uids))
            session.finish()
    return summary


def _handle(session: _Session, uid: bytes, raw: bytes, ctx: reports.Context, events: EventStore,
            store: Store, policy: Policy, summary: FetchSummary) -> None:
    reading = reports.read(raw, ctx)
    mid = reading.message_id
    before = events.seen_message(mid)
    if before is not None:
        summary.seen_before += 1
        summary.still_unknown += before == reports.UNKNOWN
        if not summary.dry_run and before != reports.UNKNOWN:
            session.done(uid)      # remembered, but the move did not happen last time
        return
    summary.messages += 1
    summary.verdicts[reading.verdict] += 1
    if not reading.understood:
        summary.unknown.append(reading.summary)
    if summary.dry_run:
        summary.recorded += [Recorded(e, True, "(dry run: not applied)") for e in reading.events]
        return
    for event in reading.events:
        summary.recorded.append(record(events, store, event, policy))
    events.remember_message(mid, reading.verdict, reading.summary)
    if reading.understood:
        session.done(uid)
    else:
        session.keep(uid)


def _context(ws: Workspace, settings: Mailbox) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if settings.ca_file:
        path = settings.ca_file if settings.ca_file.is_absolute() else ws.root / settings.ca_file
        try:
            context.load_verify_locations(cafile=str(path))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"feedback.mailbox.ca_file: cannot load {path}: {exc}") from None
    return context


class _Session:
    """One IMAP session: TLS always (IMAPS, or STARTTLS before login), read-only in a dry run."""

    def __init__(self, settings: Mailbox, password: str, context: ssl.SSLContext, *, readonly: bool):
        self.settings = settings
        self.password = password
        self.context = context
        self.readonly = readonly
        self.imap: imaplib.IMAP4 | None = None
        self.expunge_needed = False
        self.where = f"{settings.username}@{settings.host}:{settings.port}"
        self._made: set[str] = set()

    def __enter__(self) -> _Session:
        try:
            self._open()
        except ssl.SSLCertVerificationError as exc:
            self.close()
            raise MailboxError(f"{self.where}: the server's TLS certificate is not trusted "
                               f"({exc.verify_message}); set feedback.mailbox.ca_file for a private one") from None
        except imaplib.IMAP4.error as exc:
            self.close()
            raise MailboxError(f"{self.where}: {_text(exc)}") from None
        except OSError as exc:
            self.close()
            raise MailboxError(f"cannot connect to the feedback mailbox {self.where}: {exc}") from None
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _open(self) -> None:
        s = self.settings
        if s.security == "tls":
            self.imap = imaplib.IMAP4_SSL(s.host, s.port, ssl_context=self.context, timeout=s.timeout_seconds)
        else:
            self.imap = imaplib.IMAP4(s.host, s.port, timeout=s.timeout_seconds)
            self.imap.starttls(ssl_context=self.context)
        try:
            self._login()
        except imaplib.IMAP4.error as exc:
            raise imaplib.IMAP4.error(f"the server refused the login: {_text(exc)}") from None
        status, data = self.imap.select(_quote(s.folder), readonly=self.readonly)
        if status != "OK":
            raise imaplib.IMAP4.error(f"cannot open the folder {s.folder!r}: {_text(data)}")

    def _login(self) -> None:
        """imaplib sends LOGIN as ASCII; a user name or password beyond ASCII goes through
        AUTHENTICATE PLAIN, which is defined over UTF-8 (RFC 4616)."""
        assert self.imap is not None
        user, password = self.settings.username, self.password
        if user.isascii() and password.isascii():
            self.imap.login(user, password)
        else:
            self.imap.authenticate("PLAIN", lambda _challenge: f"\0{user}\0{password}".encode("utf-8"))

    def uids(self) -> list[bytes]:
        assert self.imap is not None
        status, data = self.imap.uid("SEARCH", None, "ALL")
        if status != "OK":
            raise MailboxError(f"{self.where}: SEARCH failed: {_text(data)}")
        return data[0].split() if data and data[0] else []

    def messages(self, uids: list[bytes]) -> Iterator[tuple[bytes, bytes]]:
        """(uid, whole message) for each uid, fetched in batches without setting \\Seen."""
        assert self.imap is not None
        for start in range(0, len(uids), BATCH):
            chunk = uids[start:start + BATCH]
            status, data = self.imap.uid("FETCH", b",".join(chunk).decode(), "(UID BODY.PEEK[])")
            if status != "OK":
                raise MailboxError(f"{self.where}: FETCH failed: {_text(data)}")
            for item in data:
                if isinstance(item, tuple) and len(item) == 2:
                    match = re.search(rb"UID (\d+)", item[0])
                    if match:
                        yield match[1], item[1]

    def done(self, uid: bytes) -> None:
        """An understood message: moved to the processed folder, or flagged."""
        assert self.imap is not None
        folder = self.settings.processed_folder
        if not folder:
            self._store(uid, f"(\\Seen {DONE_FLAG})")
            return
        self._ensure_folder(folder)
        if b"MOVE" in _capabilities(self.imap):
            status, data = self.imap.uid("MOVE", uid.decode(), _quote(folder))
        else:
            status, data = self.imap.uid("COPY", uid.decode(), _quote(folder))
            if status == "OK":
                self._store(uid, "(\\Deleted)")
                self.expunge_needed = True
        if status != "OK":
            raise MailboxError(f"{self.where}: cannot move message {uid.decode()} to {folder!r}: {_text(data)}")

    def keep(self, uid: bytes) -> None:
        """A message not understood stays, flagged for people (and left unread)."""
        self._store(uid, f"({UNKNOWN_FLAG})")

    def _store(self, uid: bytes, flags: str) -> None:
        assert self.imap is not None
        status, data = self.imap.uid("STORE", uid.decode(), "+FLAGS", flags)
        if status != "OK":
            log.warning("%s: cannot flag message %s: %s", self.where, uid.decode(), _text(data))

    def _ensure_folder(self, folder: str) -> None:
        assert self.imap is not None
        if folder in self._made:
            return
        status, data = self.imap.create(_quote(folder))
        if status != "OK" and b"exist" not in b" ".join(d for d in data if isinstance(d, bytes)).lower():
            raise MailboxError(f"{self.where}: cannot create the folder {folder!r}: {_text(data)}")
        self._made.add(folder)

    def finish(self) -> None:
        if self.imap is not None and self.expunge_needed:
            self.imap.expunge()

    def close(self) -> None:
        imap, self.imap = self.imap, None
        if imap is None:
            return
        try:
            if imap.state == "SELECTED":
                imap.close()
            imap.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


def _capabilities(imap: imaplib.IMAP4) -> set[bytes]:
    return {c.encode() if isinstance(c, str) else c for c in imap.capabilities}


def _quote(name: str) -> str:
    if not name.isascii():
        raise ConfigError(f"IMAP folder {name!r}: only ASCII folder names are supported")
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return " ".join(_text(v) for v in value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, BaseException) and value.args:
        return _text(value.args[0])
    return str(value)

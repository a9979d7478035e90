"""Workspace settings: one pydantic model, read from ``newsletter.yaml`` at the workspace root.

Every value is checked where it is written: addresses (email-validator), the List-Id (RFC 2919),
public URLs (absolute https; plain http only for this machine, for trials and tests) and the
delivery adapter's name, so a mistake is reported at ``newsletter.yaml:LINE:COL`` by every
command, ``newsletter check`` among them, and later stages can trust what they get.

Any setting can be overridden by an environment variable ``NEWSLETTER_<SECTION>__<KEY>`` (e.g.
``NEWSLETTER_SENDER__FROM_ADDRESS``); the environment wins over the file. Secrets (SMTP URL with
password, SMTP password, signing key) are read only from the environment or from a file named in
the environment (``NEWSLETTER_SECRET_KEY_FILE``), never from the YAML.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from newsletter.core.adapters import ADAPTERS
from newsletter.core.errors import ConfigError, SourceError, ValidationFailed, WorkspaceNotFound
from newsletter.core.validation import errors_from_pydantic
from newsletter.core.yamlsrc import format_loc, load_yaml

SETTINGS_FILE = "newsletter.yaml"
ENV_PREFIX = "NEWSLETTER_"
LANG_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"


# -- checked values ---------------------------------------------------------------------------

# The everyday shape of an address (ASCII dot-atom @ host names ending in a letter TLD), which
# email-validator always accepts: such an address needs no library, so `newsletter build` does
# not pay email-validator's 25 ms import. Whatever else is written goes to email-validator, the
# authority, which also says what is wrong. tests/core/test_config.py checks that this shape
# never lets through an address email-validator refuses.
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*"
                            r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}\Z")
_RESERVED_NAMES = ("arpa", "invalid", "local", "localhost", "onion", "test")  # email-validator's


def plainly_valid(address: str) -> bool:
    """True when ``address`` has the everyday shape email-validator always accepts."""
    local, _, domain = address.rpartition("@")
    return (_PLAIN_ADDRESS.match(address) is not None and len(address) <= 254 and len(local) <= 64
            and "--" not in domain and domain.rpartition(".")[2].lower() not in _RESERVED_NAMES)


def _address(value: str) -> str:
    """An address a message can be sent from or to, as email-validator sees it: a plain ASCII
    mailbox name (headers carry no other), any domain that exists in the DNS's name space."""
    if plainly_valid(value):
        return value
    from email_validator import EmailNotValidError, validate_email  # 25 ms to import: only here

    try:
        validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise ValueError(f"expected an address like news@example.org: {exc}") from None
    return value


def _mailto(value: str) -> str:
    """An address, written with or without ``mailto:``; kept without it."""
    bare = value[len("mailto:"):] if value.lower().startswith("mailto:") else value
    return _address(bare)


def _domain(value: str) -> str:
    """A domain name (the right side of a Message-ID), checked by the same rules as the domain
    of an address."""
    try:
        _address(f"postmaster@{value}")
    except ValueError:
        raise ValueError(f"expected a domain name like example.org; got {value!r}") from None
    return value


# RFC 5322 atext: what a List-Id label (RFC 2919: dot-atom-text) may hold.
_ATEXT = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~\-"
_LIST_ID = re.compile(rf"[{_ATEXT}]+(\.[{_ATEXT}]+)+\Z")


def _list_id(value: str) -> str:
    if not _LIST_ID.match(value) or len(value) > 255:
        raise ValueError(f"expected a dotted name like news.example.org (RFC 2919 List-Id); got {value!r}")
    return value


# What a URL may hold to go into a header or a link unchanged: printable ASCII without spaces,
# quotes or angle brackets.
_URL_CHARS = re.compile(r"[!#$%&'()*+,./0-9:;=?@A-Z\[\]_a-z~-]+\Z")
LOOPBACK_NAMES = {"localhost"}


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES or host.lower().endswith(".localhost"):
        return True
    try:
        import ipaddress  # only for a plain-http URL

        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _public_url(value: str) -> str:
    """An absolute https URL; plain http only for a loopback host (127.0.0.1, ::1, localhost),
    where a trial runs on this machine. Mail providers ignore one-click unsubscribe over http."""
    if not _URL_CHARS.match(value):
        raise ValueError(f"expected a URL of plain ASCII characters without spaces; got {value!r}")
    parts = urlsplit(value)
    try:
        host = parts.hostname or ""
    except ValueError:
        host = ""
    if parts.scheme not in ("https", "http") or not host:
        raise ValueError(f"expected an absolute URL like https://example.org/news; got {value!r}")
    if parts.scheme == "http" and not _is_loopback(host):
        raise ValueError(f"expected https:// (plain http:// only for 127.0.0.1, ::1 or localhost); got {value!r}")
    return value


def _website(value: str) -> str:
    """The organisation's website (the masthead's link in every email and archive page): an
    absolute http(s) URL, never javascript: or a bare host name that would link nowhere."""
    parts = urlsplit(value) if _URL_CHARS.match(value) else None
    if parts is None or parts.scheme not in ("https", "http") or not parts.netloc:
        raise ValueError(f"expected an absolute http(s) URL like https://example.org; got {value!r}")
    return value


EmailAddress = Annotated[str, AfterValidator(_address)]
MailtoAddress = Annotated[str, AfterValidator(_mailto)]
ListId = Annotated[str, AfterValidator(_list_id)]
DomainName = Annotated[str, AfterValidator(_domain)]
PublicUrl = Annotated[str, AfterValidator(_public_url)]
AdapterName = Literal[tuple(ADAPTERS)]  # type: ignore[valid-type]  # the registry's names


# -- the model --------------------------------------------------------------------------------

class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Organisation(_Section):
    name: str
    postal_address: str = Field(description="Printed in every footer (CAN-SPAM, GDPR).")
    website: Annotated[str, AfterValidator(_website)]
    logo: str | None = Field(None, description="Absolute URL, or a path relative to the workspace.")
    logo_dark: str | None = Field(None, description="A logo for dark mode (light on dark), shown instead of "
                                  "'logo' by mail apps in dark mode. Absolute URL, or a path relative to the workspace.")
    why: dict[str, str] | str = Field(
        "You receive this because you subscribed to our newsletter.",
        description="Why the reader receives this; one text or one per language.",
    )


class Sender(_Section):
    from_name: str
    from_address: EmailAddress
    reply_to: EmailAddress | None = None


class Urls(_Section):
    archive: PublicUrl = Field(description="Base URL of the web archive; editions live under it.")
    unsubscribe: PublicUrl = Field(description="One-click unsubscribe endpoint; ?token=... is appended.")
    preferences: PublicUrl | None = Field(None, description="Preferences page; ?token=... is appended.")
    unsubscribe_mailto: MailtoAddress | None = Field(
        None, description="Address for List-Unsubscribe by mail (with or without mailto:).")


class Languages(_Section):
    default: str = Field("en", pattern=LANG_PATTERN)
    available: list[str] = Field(default_factory=lambda: ["en"])
    rtl: list[str] = Field(default_factory=lambda: ["ar", "he", "fa", "ur"])

    @field_validator("available")
    @classmethod
    def _codes(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not re.match(LANG_PATTERN, v)]
        if bad:
            raise ValueError(f"expected language codes like 'en' or 'pt-BR', got {bad}")
        return value


class SmtpTimeouts(_Section):
    """Seconds to wait for each SMTP step (RFC 5321 4.5.3.2 minimums by default), and for a
    whole transaction (MAIL to the final reply), after which a trickling server is cut off."""

    greeting: float = Field(300, gt=0)
    session: float = Field(300, gt=0, description="EHLO, STARTTLS, AUTH.")
    mail: float = Field(300, gt=0)
    rcpt: float = Field(300, gt=0)
    data: float = Field(120, gt=0, description="The reply to DATA.")
    block: float = Field(180, gt=0, description="Writing the message.")
    final: float = Field(600, gt=0, description="The reply to the final '.'.")
    transaction: float = Field(900, gt=0)


class Delivery(_Section):
    adapter: AdapterName = "outbox"
    outbox_dir: Path = Path("outbox")
    smtp_url: str | None = Field(None, description="smtp://host:port, smtp+starttls://user@host:587 or smtps://...; no password here.")
    connections: int = Field(1, ge=1, le=32)
    rate_per_second: float | None = Field(None, gt=0)
    rate_per_hour: int | None = Field(None, gt=0)
    timeout_seconds: float = Field(30, gt=0, description="Connecting to the SMTP server (TCP).")
    timeouts: SmtpTimeouts = Field(default_factory=lambda: SmtpTimeouts())
    smtp_ca_file: Path | None = Field(None, description="PEM file of a private relay's CA, trusted besides the system's.")
    retry_for_seconds: float = Field(300, ge=0, description="How long a 4xx reply or an absent server is retried.")
    journal_sync: Literal["full", "normal"] = Field(
        "full", description="full: each claim is on disk before its message goes out, even through an OS crash; "
                            "normal: faster where syncing is slow, safe against a crash of the process only.")
    max_consecutive_failures: int = Field(20, ge=1)
    bounce_limit: int = Field(1, ge=1, description="Hard bounces before a subscriber is marked bounced.")
    bounce_domain: DomainName | None = Field(
        None, description="VERP: send each message with the envelope sender bounce+<code>@this domain "
                          "(docs/feedback.md); its mail must reach feedback.mailbox.")

    @field_validator("smtp_url")
    @classmethod
    def _no_password(cls, value: str | None) -> str | None:
        if value and urlsplit(value).password:
            raise ValueError("a password does not belong in newsletter.yaml; set NEWSLETTER_SMTP_URL "
                             "or NEWSLETTER_SMTP_PASSWORD in the environment instead")
        return value


class Topic(_Section):
    """A subject readers can choose on the sign-up and preferences pages; choosing it gives
    them ``tag``, which segments can use (``tags: [..]`` rules)."""

    tag: str = Field(min_length=1, max_length=100, pattern=r"^[^,;\x00-\x1f]+$")
    label: dict[str, str] | str = Field(description="What readers see; one text or one per language.")
    default: bool = Field(False, description="Ticked on the sign-up form.")


class Web(_Section):
    """``newsletter serve``: the readers' pages (unsubscribe, preferences, sign-up)."""

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    workers: int = Field(1, ge=1, le=64)
    public_url: str | None = Field(
        None, description="Where readers reach `serve` (sign-up and confirm live under it); "
                          "default: the folder of urls.unsubscribe.")
    trusted_proxies: list[str] = Field(
        default_factory=list, description="Addresses or networks (CIDR) of reverse proxies whose "
                                          "X-Forwarded-For is believed.")
    consent_ip: Literal["none", "truncated", "full"] = Field(
        "truncated", description="How much of a sign-up's IP address the consent record keeps "
                                 "(truncated: IPv4 /24, IPv6 /48).")
    consent_version: str = Field("1", min_length=1, max_length=100,
                                 description="Version of the consent text; recorded with every sign-up.")
    consent_text: dict[str, str] | str | None = Field(
        None, description="The consent checkbox's text, one or one per language (default: the shipped text).")
    topics: list[Topic] = Field(default_factory=list)
    signup_expiry_hours: float = Field(48, gt=0, le=24 * 30)
    signups_per_ip_per_hour: int = Field(5, ge=1)
    max_body_bytes: int = Field(16_384, ge=1024)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        import ipaddress
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"expected an IP address or network like 10.0.0.0/8, got {item!r}") from None
        return value

    @field_validator("topics")
    @classmethod
    def _unique_tags(cls, value: list[Topic]) -> list[Topic]:
        tags = [t.tag for t in value]
        twice = sorted({t for t in tags if tags.count(t) > 1})
        if twice:
            raise ValueError(f"each topic needs its own tag; used twice: {', '.join(twice)}")
        return value

    @field_validator("public_url")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError(f"expected an http(s) URL, got {value!r}")
        return value


class Publish(_Section):
    target: str = Field("site", description="Where `newsletter publish` puts the public site: a folder "
                                            "(relative to the workspace) or s3://bucket/prefix.")


class Mailbox(_Section):
    """The IMAP mailbox that bounces, abuse reports and mailto unsubscribes arrive in. The
    password comes from NEWSLETTER_IMAP_PASSWORD (or NEWSLETTER_IMAP_PASSWORD_FILE)."""

    host: str
    port: int = Field(993, ge=1, le=65535)
    security: Literal["tls", "starttls"] = Field("tls", description="tls: IMAPS (port 993); starttls: port 143.")
    username: str
    folder: str = "INBOX"
    processed_folder: str | None = Field(
        "Processed", description="Understood messages are moved here; none: they are flagged and stay.")
    ca_file: Path | None = Field(None, description="Trust this certificate (a private server's own).")
    timeout_seconds: float = Field(60, gt=0)


class Webhooks(_Section):
    """Mail services that report bounces and complaints by HTTP (docs/feedback.md). Secrets
    come from the environment: NEWSLETTER_POSTMARK_PASSWORD, NEWSLETTER_MAILGUN_SIGNING_KEY."""

    sns_certificate_hosts: list[str] = Field(
        default_factory=lambda: ["sns.*.amazonaws.com"],
        description="Hosts (https only; * is one label) SNS signing certificates may come from.")
    sns_topics: list[str] = Field(default_factory=list, description="Accept only these topic ARNs (empty: any).")
    postmark_username: str | None = None
    sendgrid_public_key: str | None = Field(
        None, description="The Signed Event Webhook's verification key (base64 DER, from SendGrid).")


class Feedback(_Section):
    mailbox: Mailbox | None = None
    soft_bounce_limit: int = Field(5, ge=1, description="Soft bounces in a row that count as one hard bounce.")
    soft_bounce_quiet_days: float = Field(
        14, gt=0, description="A soft-bounce score is forgotten after this long without a bounce.")
    webhooks: Webhooks = Field(default_factory=Webhooks)


class Dkim(_Section):
    """DKIM signing of every composed message (docs/delivery.md)."""

    selector: str = Field(pattern=r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$",
                          description="Published as <selector>._domainkey.<domain>.")
    domain: str | None = Field(None, description="The d= domain; default: the domain of sender.from_address "
                                                 "(the same domain, so DMARC sees them aligned).")
    key_file: Path | None = Field(None, description="PEM private key (RSA-2048 or Ed25519), relative to the "
                                                    "workspace; default dkim/<selector>.key, which "
                                                    "`newsletter dkim keygen` writes.")


class Ses(_Section):
    """Amazon SES (v2) delivery; credentials come the standard AWS way, never from here."""

    region: str | None = Field(None, description="e.g. eu-central-1; default: the AWS configuration's region.")
    configuration_set: str | None = Field(None, description="SES configuration set (event publishing).")
    max_send_rate: float | None = Field(None, gt=0, description="Messages per second; overrides the "
                                                                "account's MaxSendRate.")
    endpoint_url: str | None = Field(None, description="Another SES endpoint (a VPC endpoint, a local test server).")


class Translations(_Section):
    require_approval: bool = Field(False, description=(
        "Refuse to send a language that nobody approved with `newsletter approve`, or that "
        "changed since its approval."))


class Schedule(_Section):
    """Scheduled sends (`newsletter send EDITION --at ...`, `newsletter send --due`)."""

    grace_minutes: int = Field(60, ge=1, le=7 * 24 * 60, description=(
        "A scheduled send that could not start within this many minutes after its time is held "
        "(`newsletter schedule release ID` sends it), never sent late unasked."))


class Settings(_Section):
    """Everything in newsletter.yaml. Unknown keys are errors."""

    organisation: Organisation
    sender: Sender
    list_id: ListId = Field(description="RFC 2919 List-Id, e.g. news.example.org")
    urls: Urls
    languages: Languages = Field(default_factory=Languages)
    delivery: Delivery = Field(default_factory=Delivery)
    publish: Publish = Field(default_factory=Publish)
    feedback: Feedback = Field(default_factory=Feedback)
    dkim: Dkim | None = None
    ses: Ses = Field(default_factory=Ses)
    translations: Translations = Field(default_factory=Translations)
    schedule: Schedule = Field(default_factory=Schedule)
    database: Path = Path("subscribers/newsletter.sqlite3")
    message_id_domain: DomainName | None = None
    merge_attributes: list[str] = Field(
        default_factory=list, description="Custom subscriber attributes usable as merge fields."
    )
    web: Web = Field(default_factory=Web)

    @property
    def msgid_domain(self) -> str:
        return self.message_id_domain or self.sender.from_address.rpartition("@")[2]


@dataclass(frozen=True)
class Secrets:
    """Values read only from the environment (or a file the environment names)."""

    smtp_url: str | None
    smtp_password: str | None
    secret_key: bytes
    old_secret_keys: tuple[bytes, ...] = ()

    @property
    def token_keys(self) -> tuple[bytes, ...]:
        """The key new tokens are made with, then the retired keys that still verify."""
        return (self.secret_key, *self.old_secret_keys)


def _env_or_file(name: str) -> str | None:
    value = os.environ.get(name)
    if value:
        return value
    file = os.environ.get(f"{name}_FILE")
    if file:
        try:
            return Path(file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{name}_FILE={file}: cannot read: {exc.strerror}") from None
    return None


def env_secret(name: str) -> str | None:
    """A secret from the environment variable ``name`` or the file ``<name>_FILE`` names."""
    return _env_or_file(name)


class Workspace:
    """A folder with newsletter.yaml, issues/, templates/ and subscribers/."""

    def __init__(self, root: Path, settings: Settings):
        self.root = root.resolve()
        self.settings = settings

    @property
    def settings_file(self) -> Path:
        return self.root / SETTINGS_FILE

    @property
    def issues_dir(self) -> Path:
        return self.root / "issues"

    @property
    def templates_dir(self) -> Path:
        return self.root / "templates"

    @property
    def subscribers_dir(self) -> Path:
        return self.root / "subscribers"

    @property
    def segments_file(self) -> Path:
        return self.subscribers_dir / "segments.yaml"

    @property
    def build_dir(self) -> Path:
        return self.root / "build"

    @property
    def db_path(self) -> Path:
        return self._under_root(self.settings.database)

    @property
    def outbox_dir(self) -> Path:
        return self._under_root(self.settings.delivery.outbox_dir)

    @property
    def dkim_key_file(self) -> Path | None:
        dkim = self.settings.dkim
        if dkim is None:
            return None
        return self._under_root(dkim.key_file or Path("dkim") / f"{dkim.selector}.key")

    def _under_root(self, path: Path) -> Path:
        return path if path.is_absolute() else self.root / path

    def editions(self) -> list[str]:
        if not self.issues_dir.is_dir():
            return []
        return sorted(p.name for p in self.issues_dir.iterdir() if p.is_dir() and not p.name.startswith("."))

    @cached_property
    def secrets(self) -> Secrets:
        key = _env_or_file("NEWSLETTER_SECRET_KEY")
        return Secrets(
            smtp_url=_env_or_file("NEWSLETTER_SMTP_URL") or self.settings.delivery.smtp_url,
            smtp_password=_env_or_file("NEWSLETTER_SMTP_PASSWORD"),
            secret_key=key.encode() if key else self._local_key(),
            old_secret_keys=tuple(k.encode() for k in (_env_or_file("NEWSLETTER_OLD_SECRET_KEYS") or "").split()),
        )

    def _local_key(self) -> bytes:
        """Without NEWSLETTER_SECRET_KEY, a random key kept beside the database (git-ignored),
        so tokens stay valid across runs on this machine."""
        path = self.db_path.with_name("secret.key")
        if not path.exists():
            import secrets  # only the first time, to make the key

            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
        return path.read_text().strip().encode()


def find_workspace(start: Path | None = None) -> Path:
    """Walk up from ``start`` to the first folder holding newsletter.yaml."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / SETTINGS_FILE).is_file():
            return folder
    raise WorkspaceNotFound(
        f"no {SETTINGS_FILE} in {here} or any folder above it; "
        "run inside a workspace or pass -C/--workspace DIR"
    )


def load_workspace(root: Path | None = None) -> Workspace:
    folder = Path(root).resolve() if root else find_workspace()
    file = folder / SETTINGS_FILE
    if not file.is_file():
        raise WorkspaceNotFound(f"{folder} is not a workspace: it has no {SETTINGS_FILE}")
    return Workspace(folder, load_settings(file))


def load_settings(file: Path, environ: Mapping[str, str] | None = None) -> Settings:
    """The settings in ``file`` with the environment's overrides laid over them; every mistake
    is reported with its place: ``newsletter.yaml:LINE:COL`` or the variable's name."""
    try:
        data, smap = load_yaml(file)
    except SourceError as err:
        raise ValidationFailed([err]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValidationFailed([smap.error((), "expected a mapping of settings", "")])
    data, origins = environment_overlay(data, os.environ if environ is None else environ)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        errors = errors_from_pydantic(exc, smap, Settings, data)
        raise ValidationFailed([_from_environment(err, origins) for err in errors]) from None


def environment_overlay(data: dict[str, Any], environ: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """``data`` with every ``NEWSLETTER_<SECTION>__<KEY>`` variable laid over it (names in any
    case; a value that looks like JSON, ``[...]`` or ``{...}``, is read as JSON, the rest stays
    text for the model to convert), and which setting came from which variable. Variables that
    name no setting (the secrets, NEWSLETTER_CHROMIUM, ...) are left alone. This small overlay
    replaces pydantic-settings, whose import alone took a fifth of a short command's time."""
    out = dict(data)
    origins: dict[str, str] = {}
    for name, raw in environ.items():
        if not name.upper().startswith(ENV_PREFIX):
            continue
        path = name[len(ENV_PREFIX):].lower().split("__")
        if path[0] not in Settings.model_fields or not all(path):
            continue
        target = out
        for part in path[:-1]:
            inner = target.get(part)
            target[part] = dict(inner) if isinstance(inner, dict) else {}
            target = target[part]
        target[path[-1]] = _env_value(raw)
        origins[format_loc(tuple(path))] = name
    return out, origins


def _env_value(raw: str) -> Any:
    if raw.lstrip()[:1] in ("[", "{"):
        try:
            return json.loads(raw)
        except ValueError:
            pass
    return raw


def _from_environment(err: SourceError, origins: dict[str, str]) -> SourceError:
    """An error in a value that came from the environment names the variable, not a line."""
    for field, variable in origins.items():
        if err.field == field or err.field.startswith(field + "."):
            return SourceError(f"environment variable {variable}", None, None, err.message, err.field)
    return err


def settings_json_schema() -> dict[str, Any]:
    return Settings.model_json_schema()

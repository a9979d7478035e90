"""Workspace settings: one pydantic model, read from ``newsletter.yaml`` at the workspace root.

Any setting can be overridden by an environment variable in the pydantic-settings convention,
``NEWSLETTER_<SECTION>__<KEY>`` (e.g. ``NEWSLETTER_SENDER__FROM_ADDRESS``); the environment wins
over the file. Secrets (SMTP URL with password, SMTP password, signing key) are read only from
the environment or from a file named in the environment, never from the YAML.
"""
from __future__ import annotations

import os
import secrets as _secrets
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from newsletter.core.errors import ConfigError, SourceError, ValidationFailed, WorkspaceNotFound
from newsletter.core.validation import errors_from_pydantic
from newsletter.core.yamlsrc import load_yaml

SETTINGS_FILE = "newsletter.yaml"
LANG_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Organisation(_Section):
    name: str
    postal_address: str = Field(description="Printed in every footer (CAN-SPAM, GDPR).")
    website: str
    logo: str | None = Field(None, description="Absolute URL, or a path relative to the workspace.")
    why: dict[str, str] | str = Field(
        "You receive this because you subscribed to our newsletter.",
        description="Why the reader receives this; one text or one per language.",
    )


class Sender(_Section):
    from_name: str
    from_address: str
    reply_to: str | None = None


class Urls(_Section):
    archive: str = Field(description="Base URL of the web archive; editions live under it.")
    unsubscribe: str = Field(description="One-click unsubscribe endpoint; ?token=... is appended.")
    preferences: str | None = Field(None, description="Preferences page; ?token=... is appended.")
    unsubscribe_mailto: str | None = Field(None, description="mailto: address for List-Unsubscribe.")


class Languages(_Section):
    default: str = Field("en", pattern=LANG_PATTERN)
    available: list[str] = Field(default_factory=lambda: ["en"])
    rtl: list[str] = Field(default_factory=lambda: ["ar", "he", "fa", "ur"])

    @field_validator("available")
    @classmethod
    def _codes(cls, value: list[str]) -> list[str]:
        import re
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
    adapter: Literal["outbox", "smtp", "console", "ses"] = "outbox"
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

    @field_validator("smtp_url")
    @classmethod
    def _no_password(cls, value: str | None) -> str | None:
        if value and urlsplit(value).password:
            raise ValueError("a password does not belong in newsletter.yaml; set NEWSLETTER_SMTP_URL "
                             "or NEWSLETTER_SMTP_PASSWORD in the environment instead")
        return value


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


class Settings(BaseSettings):
    """Everything in newsletter.yaml. Unknown keys are errors."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSLETTER_", env_nested_delimiter="__", extra="forbid",
    )

    organisation: Organisation
    sender: Sender
    list_id: str = Field(description="RFC 2919 List-Id, e.g. news.example.org")
    urls: Urls
    languages: Languages = Field(default_factory=Languages)
    delivery: Delivery = Field(default_factory=Delivery)
    dkim: Dkim | None = None
    ses: Ses = Field(default_factory=Ses)
    translations: Translations = Field(default_factory=Translations)
    database: Path = Path("subscribers/newsletter.sqlite3")
    message_id_domain: str | None = None
    merge_attributes: list[str] = Field(
        default_factory=list, description="Custom subscriber attributes usable as merge fields."
    )

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment overrides the file (init kwargs hold the parsed YAML).
        return (env_settings, init_settings)

    @property
    def msgid_domain(self) -> str:
        return self.message_id_domain or self.sender.from_address.rpartition("@")[2]


@dataclass(frozen=True)
class Secrets:
    """Values read only from the environment (or a file the environment names)."""

    smtp_url: str | None
    smtp_password: str | None
    secret_key: bytes


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
        )

    def _local_key(self) -> bytes:
        """Without NEWSLETTER_SECRET_KEY, a random key kept beside the database (git-ignored),
        so tokens stay valid across runs on this machine."""
        path = self.db_path.with_name("secret.key")
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(_secrets.token_hex(32))
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


def load_settings(file: Path) -> Settings:
    try:
        data, smap = load_yaml(file)
    except SourceError as err:
        raise ValidationFailed([err]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValidationFailed([smap.error((), "expected a mapping of settings", "")])
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ValidationFailed(errors_from_pydantic(exc, smap, Settings, data)) from None


def settings_json_schema() -> dict[str, Any]:
    return Settings.model_json_schema()

"""One TOML file → frozen, validated settings.

Validation happens once at start so a typo fails loudly with the key's
dotted path (`accounts[1].prefix: ...`) instead of surfacing later as a
wrong routing decision.  Secrets may be written as `"env:NAME"`
(gateway.core.config_types says when each is read).
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import (
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from gateway.core.config_types import ChannelSecret, HostPort, Secret, Section, host_port, reveal
from gateway.core.terms import PartnerTermsConfig, TermsConfig, check_terms_partners
from gateway.core.imap_config import ImapConfig
from gateway.core.web_config import WebConfig

__all__ = ["HostPort", "ImapConfig", "Secret", "WebConfig", "host_port"]  # for the modules that import them from here

DEFAULT_CONFIG_PATH = Path("relaydesk.toml")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_PREFIX = re.compile(r"^[A-Z][A-Z0-9]{0,9}$")
ADHOC_PREFIX = "EXT"  # EXT<n>: refs of partners made on the fly (gateway.desk.adhoc_partners), never configured


class ConfigError(Exception):
    """The configuration cannot be used; the message names the offending key."""


class StorageConfig(Section):
    url: str = "sqlite:///data/relaydesk.db"
    blobs: Path = Path("data/blobs")


class QueueConfig(Section):
    broker: str = "embedded"
    worker_threads: int = Field(default=4, ge=1, le=64)
    sweep_interval_seconds: float = Field(default=30.0, gt=0)
    timer_interval_seconds: float = Field(default=5.0, gt=0)
    stale_after_seconds: float = Field(default=60.0, gt=0)
    max_attempts: int = Field(default=8, ge=1)
    namespace: str = Field(default="relaydesk", pattern=r"^[A-Za-z0-9_.-]+$")  # Redis key prefix

    @field_validator("broker")
    @classmethod
    def _known_broker(cls, value: str) -> str:
        if value == "embedded" or value.startswith(("redis://", "rediss://", "amqp://", "amqps://")):
            return value
        raise ValueError("must be 'embedded', redis://… or amqp://…")


class SmtpConfig(Section):
    listen: HostPort = "127.0.0.1:2525"
    max_message_bytes: int = Field(default=26_214_400, gt=0)
    hostname: str | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    require_starttls: bool = False
    auth_users: dict[str, ChannelSecret] = Field(default_factory=dict)
    max_messages_per_sender_per_hour: int = Field(default=200, ge=1)

    @property
    def address(self) -> tuple[str, int]:
        return host_port(self.listen)

    @model_validator(mode="after")
    def _tls_pair(self) -> "SmtpConfig":
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together")
        if self.require_starttls and self.tls_cert is None:
            raise ValueError("require_starttls needs tls_cert and tls_key")
        return self


class OutboundConfig(Section):
    smarthost: HostPort = "127.0.0.1:25"
    username: str | None = None
    password: ChannelSecret | None = None
    starttls: bool = False
    timeout_seconds: float = Field(default=30.0, gt=0)
    message_id_domain: str | None = None  # see Config.message_id_domain
    bounce_address: str | None = None
    ack_period_seconds: int = Field(default=3600, ge=0)
    retry_base_seconds: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=10, ge=1)
    mirror_cap_per_minute: int = Field(default=20, ge=1)

    @property
    def address(self) -> tuple[str, int]:
        return host_port(self.smarthost)


class SecurityConfig(Section):
    # The HMAC key of reply tokens.  Unset: $RELAYDESK_SECRET, else one generated into the data directory
    # at first start (gateway.core.secret_file).
    secret: Secret | None = Field(default=None, validate_default=True)
    max_hops: int = Field(default=8, ge=1)
    trusted_authserv_ids: tuple[str, ...] = ()
    require_dkim_for_commands: bool = False

    @field_validator("secret", mode="before")
    @classmethod
    def _from_environment(cls, value: str | None) -> str | None:
        return os.environ.get("RELAYDESK_SECRET") if value is None else value

    @field_validator("secret")
    @classmethod
    def _long_enough(cls, value: str | None) -> str | None:
        if value is not None and len(value) < 16:
            raise ValueError("must be at least 16 characters (use env:NAME in production)")
        return value


class AgentConfig(Section):
    name: str
    email: str | None = None
    telegram: int | None = None
    operator: bool = False  # runs the installation: the digest adds parked mail and failed deliveries

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return value.strip().lower() if value else value

    @model_validator(mode="after")
    def _has_identity(self) -> "AgentConfig":
        if not self.email and self.telegram is None:
            raise ValueError("an agent needs an email or a telegram id")
        return self


WebhookEvent = Literal["ticket.created", "ticket.status_changed", "message.created", "link.changed",
                       "deadline.breached"]


class WebhookConfig(Section):
    """Where an account's events are POSTed, signed with `secret` (HMAC-SHA256)."""

    url: str = Field(pattern=r"^https?://")
    secret: ChannelSecret  # read when a delivery is signed (config_types.reveal)
    events: tuple[WebhookEvent, ...] = WebhookEvent.__args__


class AccountConfig(Section):
    slug: str
    name: str
    prefix: str
    kind: Literal["hosted", "external"] = "hosted"
    addresses: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    agents: tuple[AgentConfig, ...] = ()
    partners: tuple[str, ...] = ()
    relay_partner_replies: Literal["requester", "agents"] = "requester"
    attribute_partner: bool = True
    hide_customer_contact: bool = False
    allow_external_handoff: bool = False
    close_children_on_close: bool = True
    followup_to_closed: Literal["new_ticket", "reopen"] = "new_ticket"
    send_acknowledgement: bool = True
    terms: TermsConfig = TermsConfig()
    partner_terms: tuple[PartnerTermsConfig, ...] = ()
    digest_hour: int | None = Field(default=None, ge=0, le=23)
    webhooks: tuple[WebhookConfig, ...] = ()

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError("lower-case letters, digits, '-' and '_' only")
        return value

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not _PREFIX.match(value):
            raise ValueError("upper-case letters and digits, starting with a letter, at most 10")
        if re.fullmatch(rf"{ADHOC_PREFIX}\d+", value):
            raise ValueError(f"{ADHOC_PREFIX} followed by digits is kept for partners added by external handoff")
        return value

    @field_validator("addresses", "domains")
    @classmethod
    def _lower_all(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(v.strip().lower() for v in values)

    @model_validator(mode="after")
    def _hosted_has_address(self) -> "AccountConfig":
        if self.kind == "hosted" and not self.addresses:
            raise ValueError("a hosted account needs at least one address")
        if self.kind == "external" and not (self.addresses or self.domains):
            raise ValueError("an external account needs addresses or domains")
        return self

    @model_validator(mode="after")
    def _terms_name_partners(self) -> "AccountConfig":
        check_terms_partners(self.terms, self.partner_terms, self.partners)
        return self

    def terms_for(self, partner: str) -> TermsConfig:
        """The terms this account gives `partner`: its own entry over the account-wide defaults."""
        entry = next((t for t in self.partner_terms if t.partner == partner), None)
        return entry.over(self.terms) if entry is not None else self.terms


class TelegramConfig(Section):
    token: ChannelSecret
    base_url: str = "https://api.telegram.org/bot"
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None
    webhook_listen: HostPort = "127.0.0.1:8443"
    accounts: tuple[str, ...] = ()
    team_chats: dict[str, int] = Field(default_factory=dict)
    agents: dict[int, str] = Field(default_factory=dict)
    max_messages_per_chat_per_hour: int = Field(default=60, ge=1)

    @model_validator(mode="after")
    def _webhook_has_url(self) -> "TelegramConfig":
        if self.mode == "webhook" and not (self.webhook_url or "").startswith(("https://", "http://")):
            raise ValueError("mode = \"webhook\" needs webhook_url, the https:// address Telegram posts updates to")
        return self

    @property
    def lease_name(self) -> str:
        """The update loop's lease, by the bot's id (the token's first part), so two bots never share one."""
        try:
            token = reveal(self.token)
        except ValueError:  # a process that never runs the bot (`relaydesk doctor` without the variable)
            token = self.token
        return f"telegram bot {token.partition(':')[0]}"

    @property
    def file_base_url(self) -> str:
        """Where the Bot API serves files: ".../file/bot" beside ".../bot", as api.telegram.org does."""
        head, sep, _ = self.base_url.rpartition("/bot")
        return f"{head}/file/bot" if sep else self.base_url.rstrip("/") + "/file/bot"


class FingerprintConfig(Section):
    """An enterprise service desk whose notification mail we thread by its own ids."""

    name: str
    header: str
    header_pattern: str = ".*"
    id_pattern: str

    @field_validator("header_pattern", "id_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from exc
        return value


class Config(Section):
    storage: StorageConfig = StorageConfig()
    queue: QueueConfig = QueueConfig()
    smtp: SmtpConfig = SmtpConfig()
    outbound: OutboundConfig = OutboundConfig()
    security: SecurityConfig
    accounts: tuple[AccountConfig, ...] = ()
    imap: tuple[ImapConfig, ...] = ()
    telegram: TelegramConfig | None = None
    fingerprints: tuple[FingerprintConfig, ...] = ()
    web: WebConfig = WebConfig()

    @model_validator(mode="after")
    def _cross_checks(self) -> "Config":
        slugs = [a.slug for a in self.accounts]
        _no_duplicates("accounts.slug", slugs)
        _no_duplicates("accounts.prefix", [a.prefix for a in self.accounts])
        _no_duplicates("accounts.addresses", [addr for a in self.accounts for addr in a.addresses])
        for account in self.accounts:
            for partner in account.partners:
                if partner not in slugs:
                    raise ValueError(f"account {account.slug!r} names unknown partner {partner!r}")
        for box in self.imap:
            if box.account not in slugs:
                raise ValueError(f"imap mailbox {box.user!r} names unknown account {box.account!r}")
            if self.account(box.account).kind != "hosted":
                raise ValueError(f"imap mailbox {box.user!r} names {box.account!r}, which is not a hosted account")
        return self

    def account(self, slug: str) -> AccountConfig:
        for account in self.accounts:
            if account.slug == slug:
                return account
        raise KeyError(slug)

    @property
    def message_id_domain(self) -> str:
        """Right-hand side of our Message-IDs: as configured, else `relaydesk.<first hosted account's domain>`.

        Mail coming back with it is our own (a loop), so it must differ between
        installations: two relaydesks linked by mail, both on one fixed
        default, would each drop the other's mail as a loop.
        """
        if self.outbound.message_id_domain:
            return self.outbound.message_id_domain.lower()
        hosted = next((a for a in self.accounts if a.kind == "hosted"), None)
        return f"relaydesk.{hosted.addresses[0].rpartition('@')[2]}" if hosted else "relaydesk.invalid"

    @property
    def hosted_addresses(self) -> dict[str, str]:
        """Inbound address → slug of the hosted account that owns it."""
        return {addr: a.slug for a in self.accounts if a.kind == "hosted" for addr in a.addresses}


def _no_duplicates(key: str, values: list[str]) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{key}: {value!r} appears twice")
        seen.add(value)


def load_config(path: Path | None = None) -> Config:
    """Load `path`, else `./relaydesk.toml`, else the embedded defaults."""
    if path is None:
        path = DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.exists() else None
    data: dict = {}
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"{path}: no such file") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return parse_config(data, source=str(path) if path else "defaults")


def parse_config(data: dict, source: str = "config") -> Config:
    """Validate a TOML-shaped dict; errors list every bad key by its dotted path."""
    data = {**data, "security": data.get("security", {})}
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        lines = [f"{source}: invalid configuration"]
        for error in exc.errors():
            where = _dotted(error["loc"]) or "(top level)"
            lines.append(f"  {where}: {error['msg']}")
        raise ConfigError("\n".join(lines)) from None


def _dotted(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out

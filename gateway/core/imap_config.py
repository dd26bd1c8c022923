"""An [[imap]] mailbox in the config: where it is, which folders, what happens to imported mail, what is history."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Literal

from pydantic import Field, field_validator

from gateway.core.config_types import ChannelSecret, Section


class ImapConfig(Section):
    account: str
    host: str
    port: int = 993
    security: Literal["tls", "starttls", "none"] = "tls"
    user: str
    password: ChannelSecret
    tls_ca_file: str | None = None
    folders: tuple[str, ...] = ("INBOX",)
    sent_folders: tuple[str, ...] = ()
    after_import: str = "flag"
    since: str | None = None
    poll_seconds: float = Field(default=60.0, gt=0)
    # Mail the server received before this (ISO date or time) is imported as history; default: before
    # relaydesk first opened the folder.  History gets no acknowledgement, notice or relay.
    history_until: datetime | None = None
    resolve_history_after_days: int | None = Field(default=None, ge=0)  # older history: imported resolved
    notify_partners_of_history: bool = False  # a handoff found in history sends its notice to the partner

    @field_validator("history_until")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value

    @property
    def mailbox(self) -> str:
        """The mailbox's name in logs, leases and the import cursors: user@host:port."""
        return f"{self.user}@{self.host}:{self.port}"

    @field_validator("after_import")
    @classmethod
    def _after_import(cls, value: str) -> str:
        if value in ("flag", "leave") or (value.startswith("move:") and len(value) > 5):
            return value
        raise ValueError("must be 'flag', 'leave' or 'move:FOLDER'")

    @field_validator("since")
    @classmethod
    def _iso_date(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                date.fromisoformat(value)
            except ValueError:
                raise ValueError("must be a date like 2026-01-01") from None
        return value

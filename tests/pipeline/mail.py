"""Build raw mail the way clients write it, and feed it through intake + pipeline."""

from __future__ import annotations

import email
import tomllib
import uuid
from datetime import datetime, timezone
from email.message import EmailMessage
from email.policy import SMTP, default
from email.utils import format_datetime
from pathlib import Path

from sqlalchemy import select

from gateway.channels.intake import accept_raw
from gateway.core.config import Config, parse_config
from gateway.core.runtime import Runtime
from gateway.outbound.outbox import rendered_mail
from gateway.pipeline.runner import process_inbox_item
from storage.models import OutboxItem, Ticket
from tests.conftest import demo_config_text


def mail(
    sender: str = "Alice <alice@client.example>",
    to: str = "support@vendor.example",
    subject: str = "Printer jams on tray 2",
    text: str = "The printer jams every morning.",
    *,
    cc: str | None = None,
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    headers: dict[str, str] | None = None,
    attachment: tuple[str, str, bytes] | None = None,
) -> bytes:
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(timezone.utc))
    message["Message-ID"] = message_id or f"<{uuid.uuid4().hex}@client.example>"
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    if attachment:
        filename, content_type, data = attachment
        maintype, subtype = content_type.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def deliver(runtime: Runtime, raw: bytes, rcpt: list[str] | None = None, channel: str = "smtp") -> tuple[int, list[int]]:
    """Accept `raw` as if received for `rcpt` and process it; (inbox id, outbox ids)."""
    envelope = {"mail_from": "", "rcpt_tos": rcpt or ["support@vendor.example"]}
    inbox_id = accept_raw(runtime, channel=channel, raw=raw, envelope=envelope)
    return inbox_id, process_inbox_item(runtime, inbox_id)


def ticket(runtime: Runtime, ref: str) -> Ticket:
    with runtime.db.transaction() as session:
        found = session.scalar(select(Ticket).where(Ticket.ref == ref))
        assert found is not None, f"no ticket {ref}"
        found.messages, found.participants  # load while the session is open
        return found


def outbox(runtime: Runtime) -> list[OutboxItem]:
    with runtime.db.transaction() as session:
        return list(session.scalars(select(OutboxItem).order_by(OutboxItem.id)))


def sent_mail(runtime: Runtime, item: OutboxItem) -> email.message.EmailMessage:
    """The queued outbound mail as a parsed message."""
    return email.message_from_bytes(rendered_mail(runtime.blobs, item), policy=default)


def set_status(runtime: Runtime, ref: str, status: str) -> None:
    with runtime.db.transaction() as session:
        found = session.scalar(select(Ticket).where(Ticket.ref == ref))
        found.status = status


def config_with(data_dir: Path, db_url: str | None = None, account_changes: dict[str, dict] | None = None,
                **sections: object) -> Config:
    """The demo config with per-account changes and whole sections replaced (lists included)."""
    data = tomllib.loads(demo_config_text(data_dir))
    if db_url:
        data["storage"]["url"] = db_url
    for account in data["accounts"]:
        account.update((account_changes or {}).get(account["slug"], {}))
    data.update(sections)
    return parse_config(data)

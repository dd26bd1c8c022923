"""The Operator screen's data: what waits for a person, and when each channel and partner link last moved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.core.config import Config
from storage.channel_models import ImapFolder
from storage.models import Account, InboxItem, Link, Message, OutboxItem, Ticket

LIST_LIMIT = 100
MAIL_CHANNELS = ("smtp", "imap")


@dataclass(frozen=True)
class ChannelActivity:
    name: str
    last: datetime | None


@dataclass(frozen=True)
class PartnerActivity:
    name: str
    last_in: datetime | None
    last_out: datetime | None


@dataclass(frozen=True)
class OpsScreen:
    parked: list[InboxItem]
    failed: list[tuple[OutboxItem, str | None]]
    channels: list[ChannelActivity]
    partners: list[PartnerActivity]


def ops_screen(session: Session, config: Config) -> OpsScreen:
    parked = list(session.scalars(select(InboxItem).where(InboxItem.status == "parked")
                                  .order_by(InboxItem.id.desc()).limit(LIST_LIMIT)))
    failed = [(item, ref) for item, ref in session.execute(
        select(OutboxItem, Ticket.ref).outerjoin(Ticket, OutboxItem.ticket_id == Ticket.id)
        .where(OutboxItem.status == "failed").order_by(OutboxItem.id.desc()).limit(LIST_LIMIT))]
    return OpsScreen(parked, failed, _channels(session, config), _partners(session))


def _channels(session: Session, config: Config) -> list[ChannelActivity]:
    """SMTP, every IMAP folder configured, and Telegram when configured: the last unit each took in."""
    last_by_channel = dict(session.execute(
        select(InboxItem.channel, func.max(InboxItem.received_at)).group_by(InboxItem.channel)).all())
    found = [ChannelActivity("SMTP", last_by_channel.get("smtp"))]
    folders = {(f.mailbox, f.folder): f.updated_at for f in session.scalars(select(ImapFolder))}
    for box in config.imap:
        mailbox = f"{box.user}@{box.host}:{box.port}"
        for folder in (*box.folders, *box.sent_folders):
            found.append(ChannelActivity(f"IMAP {box.user} · {folder}", folders.get((mailbox, folder))))
    if config.telegram is not None:
        found.append(ChannelActivity("Telegram", last_by_channel.get("telegram")))
    return found


def _partners(session: Session) -> list[PartnerActivity]:
    """Each account that was handed work: the last mail its side sent in and the last we sent it."""
    partner_ids = select(Ticket.account_id).join(Link, Link.child_ticket_id == Ticket.id).distinct()
    last_in = dict(session.execute(
        select(Ticket.account_id, func.max(Message.created_at)).join(Message, Message.ticket_id == Ticket.id)
        .where(Ticket.account_id.in_(partner_ids), Message.direction == "in", Message.channel.in_(MAIL_CHANNELS))
        .group_by(Ticket.account_id)).all())
    last_out = dict(session.execute(
        select(Ticket.account_id, func.max(OutboxItem.created_at)).join(OutboxItem, OutboxItem.ticket_id == Ticket.id)
        .where(Ticket.account_id.in_(partner_ids)).group_by(Ticket.account_id)).all())
    accounts = session.scalars(select(Account).where(Account.id.in_(partner_ids)).order_by(Account.name))
    return [PartnerActivity(a.name, last_in.get(a.id), last_out.get(a.id)) for a in accounts]

"""A ticket with an outbox item on it, built through the real domain functions."""

from __future__ import annotations

from sqlalchemy import select

from gateway.core.runtime import Runtime
from gateway.desk.participants import add_participant
from gateway.desk.tickets import open_ticket
from gateway.outbound.outbox import queue_mail
from parsers.message import Address
from storage.models import Account, Event, OutboxItem


def queued_mail(runtime: Runtime, to: str = "alice@client.example", account: str = "vendor",
                kind: str = "reply") -> int:
    """Open a ticket in `account` with `to` as requester and queue one mail to them; the outbox id."""
    with runtime.db.transaction() as session:
        owner = session.scalar(select(Account).where(Account.slug == account))
        ticket = open_ticket(session, owner, "Printer jams on tray 2")
        requester = add_participant(session, ticket, "requester", Address("Alice", to))
        return queue_mail(session, runtime, ticket, requester, kind=kind, text="We are on it.").id


def outbox(runtime: Runtime, outbox_id: int) -> OutboxItem:
    with runtime.db.transaction() as session:
        return session.get(OutboxItem, outbox_id)


def notices(runtime: Runtime) -> list[OutboxItem]:
    with runtime.db.transaction() as session:
        return list(session.scalars(select(OutboxItem).where(OutboxItem.kind == "notice").order_by(OutboxItem.id)))


def events(runtime: Runtime, type_: str) -> list[Event]:
    with runtime.db.transaction() as session:
        return list(session.scalars(select(Event).where(Event.type == type_).order_by(Event.id)))

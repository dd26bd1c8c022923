"""Which ticket events an account's webhooks hear of, queued in the transaction that made the event.

Every change to a ticket writes an Event row (`tickets.add_event`); the
events named in `EVENT_NAMES` are also written to the outbox, once per
webhook of the ticket's account that asked for them, in the same
transaction.  So a process killed between the change and its delivery
loses nothing: the outbox row is there for the delivery actor or the
sweeper, like mail.  The body carries the account's own ticket only: a
webhook never hears of another account's tickets.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.desk.views import message_json, ticket_summary
from gateway.desk.withheld import WITHHELD, is_withheld
from parsers.message import iso_utc
from storage.api_models import Webhook
from storage.directory import cached
from storage.models import Event, Message, OutboxItem, Ticket

CHANNEL = "webhook"
KIND = "webhook"
DEADLINE_BREACHED = "deadline_breached"  # written by flows.deadline_alerts on both tickets of the link

# Event type → the webhook event it is announced as.  `link_*` events all become `link.changed`.
EVENT_NAMES = {
    "ticket_created": "ticket.created",
    "status_changed": "ticket.status_changed",
    "message_added": "message.created",
    DEADLINE_BREACHED: "deadline.breached",
}
LINK_PREFIX = "link_"

_HOOKS = "webhooks by account"
_QUEUED = "queued webhook deliveries"


def webhook_event(event_type: str) -> str | None:
    """The webhook event name of an Event type, or None when webhooks do not hear of it."""
    if event_type.startswith(LINK_PREFIX):
        return "link.changed"
    return EVENT_NAMES.get(event_type)


def webhooks_hear_of(session: Session, ticket: Ticket, event_type: str) -> bool:
    """Whether a webhook of the ticket's account subscribed to events of this type."""
    return bool(_subscribed(session, ticket, event_type))


def announce(session: Session, ticket: Ticket, event: Event) -> list[OutboxItem]:
    """Queue `event` for each webhook of the ticket's account that subscribed to it; the rows queued."""
    hooks = _subscribed(session, ticket, event.type)
    if not hooks:
        return []
    name = webhook_event(event.type)
    session.flush()  # the event's id is the delivery's id, for receivers to drop repeats
    body = {
        "id": event.id,
        "type": name,
        "created_at": iso_utc(event.at),
        "account": ticket.account.slug,
        "ticket": ticket_summary(session, ticket),
        "data": _data(session, event),
    }
    status = WITHHELD if is_withheld(session, KIND) else "pending"  # history: recorded, never delivered
    items = [
        OutboxItem(ticket_id=ticket.id, kind=KIND, channel=CHANNEL, recipient=hook.url[:320], envelope_from="",
                   status=status, payload={"webhook_id": hook.id, "event": name, "body": body})
        for hook in hooks
    ]
    session.add_all(items)
    session.flush()
    if status != WITHHELD:
        session.info.setdefault(_QUEUED, []).extend(item.id for item in items)
    return items


def take_queued(session: Session) -> list[int]:
    """The ids of webhook deliveries queued in this session so far (each handed out once), to enqueue after commit."""
    return session.info.pop(_QUEUED, [])


def _subscribed(session: Session, ticket: Ticket, event_type: str) -> list[Webhook]:
    name = webhook_event(event_type)
    if name is None:
        return []
    return [hook for hook in _account_hooks(session, ticket.account_id) if name in (hook.events or [])]


def _account_hooks(session: Session, account_id: int) -> list[Webhook]:
    """The account's active webhooks, read once per session (an event-heavy transaction asks often).

    An account the settings copy knows has none is answered without a query.
    """
    _directory, snapshot = cached(session)
    if snapshot is not None and account_id not in snapshot.with_webhooks:
        return []
    cache: dict[int, list[Webhook]] = session.info.setdefault(_HOOKS, {})
    if account_id not in cache:
        cache[account_id] = list(session.scalars(
            select(Webhook).where(Webhook.account_id == account_id, Webhook.active.is_(True))
        ))
    return cache[account_id]


def _data(session: Session, event: Event) -> dict[str, Any]:
    """What changed: the detail of the event, and for a new message the message itself."""
    data: dict[str, Any] = {"event": event.type, **(event.detail or {})}
    message_id = (event.detail or {}).get("message_id")
    if event.type == "message_added" and message_id is not None:
        message = session.get(Message, message_id)
        if message is not None:
            data["message"] = message_json(message)
    return data

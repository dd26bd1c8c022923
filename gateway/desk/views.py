"""The stable JSON views of `relaydesk tickets --json` and `relaydesk show REF --json` (SPEC §10).

Fields may be added; the documented ones never change meaning.  Times are
UTC ISO 8601 with a `Z`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from gateway.core import clock
from gateway.desk import deadlines
from gateway.desk.chain import chain_entries
from gateway.desk.partner_terms import ACCEPT, RESOLVE
from parsers.message import iso_utc as iso
from storage.deadline_models import Deadline
from storage.models import Link, Message, OutboxItem, Participant, Ticket
from storage.repositories import (
    child_links,
    events_of,
    outbox_of,
    parent_link,
    parent_refs,
    requester_of,
    ticket_by_ref,
    tickets,
)


def ticket_list(session: Session, account: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
    """`relaydesk tickets --json`: one summary per ticket, oldest first (parents looked up in one query)."""
    parents = parent_refs(session)
    return [summary_json(ticket, parents.get(ticket.id)) for ticket in tickets(session, account, status)]


def ticket_summary(session: Session, ticket: Ticket) -> dict[str, Any]:
    """One ticket in the shape of a `tickets --json` row."""
    upstream = parent_link(session, ticket.id)
    return summary_json(ticket, upstream.parent.ref if upstream else None)


def summary_json(ticket: Ticket, parent: str | None) -> dict[str, Any]:
    """A `tickets --json` row, the parent's ref already known."""
    return {
        "ref": ticket.ref,
        "account": ticket.account.slug,
        "status": ticket.status,
        "subject": ticket.subject,
        "parent": parent,
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
    }


def ticket_detail(session: Session, ref: str) -> dict[str, Any] | None:
    """`relaydesk show REF --json`, or None when there is no such ticket."""
    ticket = ticket_by_ref(session, ref)
    if ticket is None:
        return None
    upstream = parent_link(session, ticket.id)
    children = child_links(session, ticket.id)
    related = session.get(Ticket, ticket.related_ticket_id) if ticket.related_ticket_id else None
    return {
        **summary_json(ticket, upstream.parent.ref if upstream else None),
        "requester": _person(requester_of(session, ticket.id)),
        "asset": ticket.asset,
        "external_id": ticket.external_id,
        "assignee": ticket.assignee,
        "related": related.ref if related else None,
        "children": [link.child.ref for link in children],
        "chain": chain(session, ticket),
        "links": _links(session, ([upstream] if upstream else []) + children),
        "participants": [_participant(p) for p in ticket.participants],
        "messages": [message_json(m) for m in ticket.messages],
        "events": [{"at": iso(e.at), "type": e.type, "detail": e.detail or {}} for e in events_of(session, ticket.id)],
        "outbound": [_outbound(item) for item in outbox_of(session, ticket.id)],
    }


def chain(session: Session, ticket: Ticket) -> list[dict[str, Any]]:
    """The whole chain the ticket belongs to, from its root, depth first."""
    return [entry.to_json() for entry in chain_entries(session, ticket)]


def _person(participant: Participant | None) -> dict[str, Any] | None:
    if participant is None:
        return None
    return {"name": participant.name, "email": participant.email, "telegram": participant.telegram_chat_id}


def _participant(participant: Participant) -> dict[str, Any]:
    return {"role": participant.role, **_person(participant)}


def _links(session: Session, links: list[Link]) -> list[dict[str, Any]]:
    """Each link with its deadlines under partner terms (all read in one query)."""
    found = deadlines.by_link(session, [link.id for link in links])
    now = clock.now()
    return [_link(link, found[link.id], now) for link in links]


def _link(link: Link, link_deadlines: list[Deadline], now: datetime) -> dict[str, Any]:
    return {
        "parent": link.parent.ref,
        "child": link.child.ref,
        "state": link.state,
        "rating": link.rating,
        "rating_comment": link.rating_comment,
        "accept_due_at": iso(deadlines.due_at(link_deadlines, ACCEPT)),
        "resolve_due_at": iso(deadlines.due_at(link_deadlines, RESOLVE)),
        "deadline_state": deadlines.link_state(link_deadlines, now),
    }


def _outbound(item: OutboxItem) -> dict[str, Any]:
    """What the gateway sent (or is sending) about the ticket, for operators following up a delivery."""
    return {
        "id": item.id,
        "kind": item.kind,
        "channel": item.channel,
        "recipient": item.recipient,
        "message_id": item.rfc_message_id,
        "subject": (item.payload or {}).get("subject"),
        "status": item.status,
        "attempts": item.attempts,
        "error": item.error,
        "created_at": iso(item.created_at),
        "sent_at": iso(item.sent_at),
    }


def message_json(message: Message) -> dict[str, Any]:
    """One message in the shape of `show --json`'s `messages`."""
    return {
        "id": message.id,
        "direction": message.direction,
        "visibility": message.visibility,
        "channel": message.channel,
        "message_id": message.rfc_message_id,
        "from": message.from_email or message.from_name,
        "from_name": message.from_name,
        "to": list(message.to or []),
        "cc": list(message.cc or []),
        "subject": message.subject,
        "text": message.text,
        "elided": message.elided,
        "unverified": message.unverified,
        "attachments": [
            {"filename": a.filename, "content_type": a.content_type, "size": a.size, "sha256": a.sha256,
             "inline": a.inline, "stored": a.stored}
            for a in message.attachments
        ],
        "created_at": iso(message.created_at),
    }

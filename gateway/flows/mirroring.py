"""Who gets what along a chain of linked tickets.

Up: a public message on a child from the partner's side (its agents, or the
external partner's address), or a `partner` message the child itself got
from further down, is copied to the parent as a `partner` message with its
files, and passed on by the parent account's `relay_partner_replies` policy:
its agents always hear of it, and with "requester" the parent's requester
gets it too, from the parent account's address.  The copy is then mirrored
further up by the parent's own link, hop by hop.

Down: a public message on a child from the requester side (the parent
account's agents) goes to the partner's side of the child.

Never mirrored: internal and auto messages, the parent's own customer
correspondence, and anything back to where it came from — every copy keeps
`origin_message_id`, a copy exists once per ticket (`mirror:<origin id>`),
and nobody receives the same origin message twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.core.accounts import settings_for
from gateway.core.config import Config
from gateway.core.runtime import Runtime
from gateway.desk import links
from gateway.desk.participants import add_participant
from gateway.desk.partner_side import executors_of, is_executor
from gateway.desk.shared_files import copy_attachments
from gateway.desk.tickets import NewMessage, add_event, add_message
from gateway.outbound import chain_notices, loop_guard, outbox
from gateway.outbound.chat_outbox import queue_chat_message
from gateway.outbound.compose import file_refs
from gateway.outbound.notices import chat_update
from parsers.message import Address
from storage import repositories
from storage.models import Agent, Link, Message, OutboxItem, Participant, Ticket

log = logging.getLogger(__name__)

MIRROR_KIND = "mirror"
REQUESTER_SIDE = ("requester", "cc")
RATING_KIND = "rating"  # rating requests (gateway.flows.ratings) quote the message that resolved the child


@dataclass(frozen=True)
class Direction:
    """Where a message on a ticket travels: up to the parent, down to the partner, or nowhere."""

    up: Link | None
    down: bool


def direction_of(session: Session, config: Config, message: Message) -> Direction:
    """The mirroring decision for one stored message, as data."""
    ticket = message.ticket
    link = repositories.parent_link(session, ticket.id)
    if link is None or link.state in (links.RECALLED, links.DECLINED):
        return Direction(None, False)
    if message.visibility == "partner":
        return Direction(link, False)
    if message.visibility != "public" or message.unverified:
        return Direction(None, False)
    if _by_own_agent(session, message) or is_executor(config, ticket, message.from_email, ticket.participants):
        return Direction(link, False)
    return Direction(None, _from_requester_side(config, link, message))


def mirror(session: Session, runtime: Runtime, message: Message, hops: int,
           told: frozenset[tuple[int, str]] = frozenset()) -> list[OutboxItem]:
    """Apply the mirroring decision for `message` and every copy it causes; returns queued mail.

    `told` holds (ticket id, address) pairs that already got this message
    inside another mail of the same run (a rating request quoting it).
    """
    queued: list[OutboxItem] = []
    current: Message | None = message
    while current is not None:
        decision = direction_of(session, runtime.config, current)
        if decision.down:
            queued += _send_down(session, runtime, current, hops)
        current = _copy_up(session, runtime, decision.up, current, hops, queued, told) if decision.up else None
    return queued


def already_received(session: Session, origin_id: int, email: str) -> bool:
    """`email` already got a mail carrying this origin message (on any ticket of the chain)."""
    copies = select(Message.id).where((Message.id == origin_id) | (Message.origin_message_id == origin_id))
    return session.scalar(
        select(OutboxItem.id).where(OutboxItem.message_id.in_(copies), OutboxItem.recipient == email.lower()).limit(1)
    ) is not None


def origin_of(message: Message) -> int:
    return message.origin_message_id or message.id


def _by_own_agent(session: Session, message: Message) -> bool:
    """Written by an agent of the ticket's own account, known without an email (a team-chat comment)."""
    if message.author_agent_id is None:
        return False
    agent = session.get(Agent, message.author_agent_id)
    return agent is not None and agent.account_id == message.ticket.account_id


def _from_requester_side(config: Config, link: Link, message: Message) -> bool:
    email = (message.from_email or "").lower()
    if not email:
        return False
    parent_account = settings_for(config, link.parent.account)
    if any(agent.email == email for agent in parent_account.agents):
        return True
    return any(p.role == "requester" and p.email == email for p in link.child.participants)


def _copy_up(session: Session, runtime: Runtime, link: Link, message: Message, hops: int,
             queued: list[OutboxItem], told: frozenset[tuple[int, str]]) -> Message | None:
    """The partner copy on the parent (None when it exists already or the cap is reached)."""
    parent = link.parent
    origin_id = origin_of(message)
    if _has_copy(session, parent.id, origin_id):
        return None
    if loop_guard.mirror_cap_reached(session, parent.id, runtime.config):
        add_event(session, parent, "mirror_capped", link.id, message_id=message.id)
        log.warning("mirror cap reached on %s; message %s not mirrored", parent.ref, message.id)
        return None
    copy = add_message(session, parent, NewMessage(
        source_key=f"mirror:{origin_id}",
        direction="in",
        visibility="partner",
        channel="mirror",
        sender=Address(message.from_name, message.from_email or ""),
        subject=message.subject,
        text=message.text,
        origin_message_id=origin_id,
        via_account_id=message.ticket.account_id,
    ))
    copy_attachments(session, message.attachments, copy)
    if link.state == links.HANDED_OFF:
        links.transition(session, link, links.ACCEPTED, actor=message.from_email,
                         detail={"message_id": message.id})
    queued += _relay_to_parent_side(session, runtime, link, copy, hops, told)
    return copy


def _has_copy(session: Session, ticket_id: int, origin_id: int) -> bool:
    return session.scalar(
        select(Message.id).where(Message.ticket_id == ticket_id, Message.source_key == f"mirror:{origin_id}")
    ) is not None


def _relay_to_parent_side(session: Session, runtime: Runtime, link: Link, copy: Message, hops: int,
                          told: frozenset[tuple[int, str]]) -> list[OutboxItem]:
    """The parent account's agents always; its requester (and copied contacts) under the "requester" policy."""
    parent = link.parent
    policy = settings_for(runtime.config, parent.account)
    recipients = [p for p in agent_participants(session, runtime.config, parent) if (parent.id, p.email) not in told]
    if policy.relay_partner_replies == "requester":
        recipients[:0] = [p for p in parent.participants if p.role in REQUESTER_SIDE]
    via = link.child.account.name if policy.attribute_partner else None
    text = chain_notices.relayed_update(copy.text, via)
    return _send(session, runtime, parent, copy, recipients, text, hops)


def _send_down(session: Session, runtime: Runtime, message: Message, hops: int) -> list[OutboxItem]:
    """A requester-side message on a child goes to the partner's side of that child."""
    return _send(session, runtime, message.ticket, message, executors_of(message.ticket), message.text, hops)


def _send(session: Session, runtime: Runtime, ticket: Ticket, message: Message, recipients: Iterable[Participant],
          text: str, hops: int) -> list[OutboxItem]:
    """One mail per recipient (a chat message to one on Telegram), skipping the author and anyone who
    already had this origin message."""
    origin_id = origin_of(message)
    author = session.get(Message, origin_id)
    skip = {(author.from_email or "").lower()} if author is not None else set()
    queued = []
    chats: set[int] = set()
    for participant in recipients:
        email = (participant.email or "").lower()
        chat = participant.telegram_chat_id
        if not email and chat is not None and chat not in chats:  # a customer who writes from Telegram
            chats.add(chat)
            queued.append(queue_chat_message(session, chat, chat_update(ticket, text), kind=MIRROR_KIND,
                                             ticket=ticket, message_id=message.id,
                                             files=file_refs(message.attachments)))
        if not email or email in skip or already_received(session, origin_id, email):
            continue
        skip.add(email)
        queued.append(outbox.queue_mail(
            session, runtime, ticket, participant, kind=MIRROR_KIND, subject=ticket.subject, text=text,
            inbound_hops=hops, attachments=file_refs(message.attachments), message_id=message.id,
        ))
    return queued


def agent_participants(session: Session, config: Config, ticket: Ticket) -> list[Participant]:
    """Participant rows for the ticket account's agents (created on first need), for mail to them."""
    account = settings_for(config, ticket.account)
    return [
        add_participant(session, ticket, "agent", Address(agent.name, agent.email), account_id=ticket.account_id)
        for agent in account.agents if agent.email
    ]


"""The Ticket screen's data: one of the viewer's account's tickets, its chain, events and possible actions.

Every lookup goes through `own_ticket`: a ref, message or file of another
account answers 404 — the same as one that does not exist, so the desk
tells nobody which refs are taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from fastapi import HTTPException
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from gateway.core.accounts import settings_for
from gateway.core.config import AccountConfig, Config
from gateway.desk.status_links import current_status_token
from gateway.desk.links import ACTIVE_STATES
from gateway.flows.agent_actions import latest_unverified
from gateway.flows.ratings import RATEABLE
from gateway.desk.tickets import STATUSES, TRANSITIONS
from gateway.desk.timings import ChainNode, chain_timings
from gateway.web.auth import Viewer
from storage import repositories
from storage.models import Attachment, Event, Link, Message, Ticket


def not_found() -> HTTPException:
    return HTTPException(status_code=404)


def own_ticket(session: Session, viewer: Viewer, ref: str) -> Ticket:
    """The viewer's account's ticket `ref`; 404 for anything else."""
    if viewer.account_id is None:
        raise not_found()
    ticket = repositories.ticket_by_ref(session, ref, account_id=viewer.account_id)
    if ticket is None:
        raise not_found()
    return ticket


def own_message(session: Session, ticket: Ticket, message_id: int) -> Message:
    message = session.get(Message, message_id)
    if message is None or message.ticket_id != ticket.id:
        raise not_found()
    return message


def own_attachment(session: Session, ticket: Ticket, attachment_id: int) -> Attachment:
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or attachment.message.ticket_id != ticket.id or not attachment.stored:
        raise not_found()
    return attachment


@dataclass(frozen=True)
class TreeHop:
    """A ticket of the chain as this viewer may see it: other accounts' without their times."""

    node: ChainNode
    own: bool
    timed: bool  # the link above it is the viewer's account's business (it handed it, or holds it)


@dataclass(frozen=True)
class TicketScreen:
    ticket: Ticket
    settings: AccountConfig
    messages: list[Message]
    tree: list[TreeHop]
    events: list[Event]
    requester: str
    statuses: list[str]
    partners: list[AccountConfig]
    agents: list[str]
    active_links: list[Link]
    rateable: list[Link]
    unverified: Message | None
    status_url: str | None


def ticket_screen(session: Session, config: Config, viewer: Viewer, ref: str) -> TicketScreen:
    ticket = own_ticket(session, viewer, ref)
    settings = settings_for(config, ticket.account)
    messages = list(session.scalars(
        select(Message).where(Message.ticket_id == ticket.id).options(selectinload(Message.attachments))
        .order_by(Message.created_at, Message.id)))
    children = repositories.child_links(session, ticket.id)
    requester = repositories.requester_of(session, ticket.id)
    token = current_status_token(session, config.security.secret, ticket)
    return TicketScreen(
        ticket=ticket,
        settings=settings,
        messages=messages,
        tree=_tree(session, ticket, viewer),
        events=repositories.events_of(session, ticket.id),
        requester=(f"{requester.name} <{requester.email}>" if requester.name else requester.email or "")
        if requester else "",
        statuses=[s for s in STATUSES if s in TRANSITIONS[ticket.status]],
        partners=[config.account(slug) for slug in settings.partners],
        agents=[a.email or a.name for a in settings.agents],
        active_links=[link for link in children if link.state in ACTIVE_STATES],
        rateable=[link for link in children if link.state in RATEABLE],
        unverified=latest_unverified(session, ticket),
        status_url=f"{config.web.base_url}/s/{token}" if token and config.web.base_url else None,
    )


def _tree(session: Session, ticket: Ticket, viewer: Viewer) -> list[TreeHop]:
    slug = viewer.account.slug if viewer.account else ""
    nodes = chain_timings(session, ticket.ref, now=datetime.now(timezone.utc)).nodes
    account_of = {n.ref: n.account for n in nodes}
    return [TreeHop(node=n, own=n.account == slug, timed=n.account == slug or account_of.get(n.parent or "") == slug)
            for n in nodes]

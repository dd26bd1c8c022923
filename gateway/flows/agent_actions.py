"""What an agent does to a ticket, whichever way they asked: a `#command` by mail, the web desk.

Each action is checked first (raising the `Rejection` the mail commands
answer with) and then applied in the caller's transaction, returning the
outbox rows it queued — so a status set in the browser tells the chain
exactly what a mailed `#status` tells it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.desk import links

from gateway.flows import mirroring

from gateway.flows import status_propagation
from gateway.core.config import AgentConfig, Config
from gateway.core.accounts import settings_for
from gateway.flows.rejections import BadStatus, NoHandoff, NothingToApprove, UnknownAgent
from gateway.core.runtime import Runtime
from gateway.desk.tickets import STATUSES, TRANSITIONS, add_event, change_status
from storage import repositories
from storage.models import Link, Message, OutboxItem, Ticket


def check_status(ticket: Ticket, target: str) -> str:
    """`target` lower-cased when the ticket may move there (or is there); BadStatus otherwise."""
    target = target.strip().lower()
    if target not in STATUSES or (target != ticket.status and target not in TRANSITIONS[ticket.status]):
        raise BadStatus(target or "(nothing)")
    return target


def set_status(session: Session, runtime: Runtime, ticket: Ticket, target: str, by: str | None, hops: int,
               last_word: str = "") -> list[OutboxItem]:
    """Move the ticket and tell its links (a resolved child asks for a rating, a closed parent closes its children)."""
    if not change_status(session, ticket, target, by=by):
        return []
    return status_propagation.after_status_change(session, runtime, ticket, by, hops, last_word=last_word)


def links_to_recall(session: Session, ticket: Ticket, refs: Iterable[str] = ()) -> list[Link]:
    """The ticket's open handoffs (only those to `refs`, when given); NoHandoff when there is none."""
    wanted = {ref.upper() for ref in refs}
    active = [link for link in links.active_child_links(session, ticket) if not wanted or link.child.ref in wanted]
    if not active:
        raise NoHandoff(f"{ticket.ref} has no open handoff")
    return active


def recall(session: Session, runtime: Runtime, recalled: Iterable[Link], by: str | None,
           hops: int) -> list[OutboxItem]:
    queued: list[OutboxItem] = []
    for link in recalled:
        queued += status_propagation.recall(session, runtime, link, by, hops)
    return queued


def agent_named(config: Config, ticket: Ticket, wanted: str) -> AgentConfig:
    """The one agent of the ticket's account that `wanted` names; UnknownAgent otherwise."""
    wanted = wanted.strip().lower()
    account = settings_for(config, ticket.account)
    matches = [a for a in account.agents if wanted and _names_agent(wanted, a.email or "", a.name)]
    if len(matches) != 1:
        raise UnknownAgent(wanted or "(nobody)")
    return matches[0]


def _names_agent(wanted: str, email: str, name: str) -> bool:
    """`dana`, `Dana Dispatcher`, `dana@vendor.example` all name Dana Dispatcher <dana@vendor.example>."""
    name = name.lower()
    return wanted in (email, email.partition("@")[0], name, name.split(" ")[0])


def assign(session: Session, ticket: Ticket, agent: AgentConfig, by: str | None) -> None:
    ticket.assignee = agent.email or agent.name
    add_event(session, ticket, "assigned", to=ticket.assignee, by=by)


def set_asset(session: Session, ticket: Ticket, value: str, by: str | None) -> None:
    ticket.asset = value.strip() or None
    add_event(session, ticket, "asset_changed", asset=ticket.asset, by=by)


def latest_unverified(session: Session, ticket: Ticket) -> Message | None:
    return session.scalar(
        select(Message).where(Message.ticket_id == ticket.id, Message.unverified.is_(True))
        .order_by(Message.id.desc()).limit(1)
    )


def message_to_approve(session: Session, ticket: Ticket) -> Message:
    """The newest message from an unverified sender; NothingToApprove when there is none."""
    message = latest_unverified(session, ticket)
    if message is None:
        raise NothingToApprove(ticket.ref)
    return message


def approve(session: Session, runtime: Runtime, message: Message, by: str | None, hops: int) -> list[OutboxItem]:
    """The message becomes public and travels along the chain like any other."""
    message.visibility, message.unverified = "public", False
    add_event(session, message.ticket, "message_approved", message_id=message.id, by=by)
    return mirroring.mirror(session, runtime, message, hops)


def link_of_child(session: Session, ticket: Ticket, child_ref: str) -> Link:
    """The handoff from `ticket` to its child `child_ref`; NoHandoff when there is no such child."""
    found = next((link for link in repositories.child_links(session, ticket.id) if link.child.ref == child_ref.upper()),
                 None)
    if found is None:
        raise NoHandoff(f"{ticket.ref} has no handoff {child_ref}")
    return found

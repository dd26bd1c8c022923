"""How long each stage of a ticket chain took, from its links, messages and events.

The numbers behind `relaydesk chain REF` and the partner report:
- time to first response: the ticket's creation until the first public (or
  partner) message that did not come from the requester side, or the
  pipeline's `first_response` event if that is earlier;
- time held at each link: handed_off → accepted, handed_off → resolved, and
  how long the partner has held it so far when it is not resolved yet;
- time to resolve: creation until the ticket first became `resolved`.

Everything is read with a fixed number of queries per chain (never one per
ticket), and the arithmetic is pure so it can be tested on fixed timestamps.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.core import clock
from gateway.desk import deadlines
from gateway.desk.chain import chain_entries
from gateway.desk.partner_terms import ACCEPT, RESOLVE
from parsers.message import iso_utc as iso
from storage import repositories
from storage.deadline_models import Deadline
from storage.models import Event, Link, Message, Participant, Ticket

RESPONSE_VISIBILITIES = ("public", "partner")
OPEN_LINK_STATES = ("handed_off", "accepted")


def seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    """Elapsed seconds, or None when either end is unknown."""
    if start is None or end is None:
        return None
    return round((end - start).total_seconds(), 3)


@dataclass(frozen=True)
class LinkTimes:
    """The stages of one handoff, in seconds from the handoff."""

    state: str
    handed_off_at: datetime
    accepted_at: datetime | None
    resolved_at: datetime | None
    rated_at: datetime | None
    rating: int | None
    rating_comment: str | None
    time_to_accept: float | None
    time_to_resolve: float | None
    held: float | None
    accept_due_at: datetime | None = None
    resolve_due_at: datetime | None = None
    deadline_state: str | None = None  # on_track | at_risk | breached | met | paused; None without terms

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "accept_due_at": iso(self.accept_due_at),
            "resolve_due_at": iso(self.resolve_due_at),
            "deadline_state": self.deadline_state,
            "handed_off_at": iso(self.handed_off_at),
            "accepted_at": iso(self.accepted_at),
            "resolved_at": iso(self.resolved_at),
            "rated_at": iso(self.rated_at),
            "rating": self.rating,
            "rating_comment": self.rating_comment,
            "time_to_accept_seconds": self.time_to_accept,
            "time_to_resolve_seconds": self.time_to_resolve,
            "held_seconds": self.held,
        }


def link_times(link: Link, now: datetime, ended_at: datetime | None = None,
               link_deadlines: Sequence[Deadline] = ()) -> LinkTimes:
    """Stage times of one link, with its deadlines under partner terms.

    An open link has been held until `now`; a recalled or declined one until
    `ended_at`, the time of its `link_recalled`/`link_declined` event.
    """
    if link.resolved_at is not None:
        held_until: datetime | None = link.resolved_at
    elif link.state in OPEN_LINK_STATES:
        held_until = now
    else:
        held_until = ended_at
    return LinkTimes(
        state=link.state,
        handed_off_at=link.created_at,
        accepted_at=link.accepted_at,
        resolved_at=link.resolved_at,
        rated_at=link.rated_at,
        rating=link.rating,
        rating_comment=link.rating_comment,
        time_to_accept=seconds_between(link.created_at, link.accepted_at),
        time_to_resolve=seconds_between(link.created_at, link.resolved_at),
        held=seconds_between(link.created_at, held_until),
        accept_due_at=deadlines.due_at(link_deadlines, ACCEPT),
        resolve_due_at=deadlines.due_at(link_deadlines, RESOLVE),
        deadline_state=deadlines.link_state(link_deadlines, now),
    )


@dataclass(frozen=True)
class MessageFact:
    """The few message fields the first-response rule needs."""

    direction: str
    visibility: str
    from_email: str | None
    created_at: datetime


def first_response_at(created_at: datetime, messages: Iterable[MessageFact], requester_side: set[str]) -> datetime | None:
    """When someone other than the requester side first answered publicly.

    Outbound public mail counts (an agent's reply sent out); so does an
    inbound public message from anyone outside the requester side (an agent
    writing through the gateway), and a `partner` message mirrored up from a
    child ticket (the executor answered on this ticket's behalf).
    """
    for fact in sorted(messages, key=lambda m: m.created_at):
        if fact.created_at < created_at or fact.visibility not in RESPONSE_VISIBILITIES:
            continue
        if fact.visibility == "partner" or fact.direction == "out":
            return fact.created_at
        if fact.from_email and fact.from_email.lower() not in requester_side:
            return fact.created_at
    return None


def first_recorded_response(events: Iterable[Event]) -> datetime | None:
    """When the pipeline recorded the agents' first public reply (`first_response` event)."""
    times = [e.at for e in events if e.type == "first_response"]
    return min(times) if times else None


def earliest(*times: datetime | None) -> datetime | None:
    known = [t for t in times if t is not None]
    return min(known) if known else None


def first_resolved_at(events: Iterable[Event]) -> datetime | None:
    """The first time a status event moved the ticket to `resolved`."""
    times = [e.at for e in events if _status_target(e) == "resolved"]
    return min(times) if times else None


def _status_target(event: Event) -> str | None:
    detail = event.detail or {}
    if event.type in ("status", "status_changed", "status_change"):
        return detail.get("to") or detail.get("status")
    return None


@dataclass(frozen=True)
class ChainNode:
    """One ticket of a chain with its timings, in depth-first order."""

    ref: str
    account: str
    account_name: str
    status: str
    depth: int
    parent: str | None
    assignee: str | None
    held_by: str
    created_at: datetime
    time_to_first_response: float | None
    time_to_resolve: float | None
    link: LinkTimes | None
    children: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "account": self.account,
            "account_name": self.account_name,
            "status": self.status,
            "depth": self.depth,
            "parent": self.parent,
            "children": self.children,
            "assignee": self.assignee,
            "held_by": self.held_by,
            "created_at": iso(self.created_at),
            "time_to_first_response_seconds": self.time_to_first_response,
            "time_to_resolve_seconds": self.time_to_resolve,
            "link": self.link.to_json() if self.link else None,
        }


@dataclass(frozen=True)
class ChainTimings:
    """The whole chain a ticket belongs to, from its root."""

    ref: str
    root: str
    nodes: Sequence[ChainNode]

    def to_json(self) -> dict[str, Any]:
        return {"ref": self.ref, "root": self.root, "tickets": [n.to_json() for n in self.nodes]}


class TicketNotFound(LookupError):
    """No ticket has the requested ref."""


def chain_timings(session: Session, ref: str, now: datetime | None = None) -> ChainTimings:
    """Timings of every ticket in the chain of `ref`, root first, depth first."""
    now = now or clock.now()
    ticket = repositories.ticket_by_ref(session, ref.upper())
    if ticket is None:
        raise TicketNotFound(ref)
    entries = chain_entries(session, ticket)
    tickets = {t.ref: t for t in session.scalars(select(Ticket).where(Ticket.ref.in_([e.ref for e in entries])))}
    ids = [t.id for t in tickets.values()]
    links = list(session.scalars(select(Link).where(Link.child_ticket_id.in_(ids) | Link.parent_ticket_id.in_(ids))))
    link_by_child = {l.child_ticket_id: l for l in links}
    link_deadlines = deadlines.by_link(session, [l.id for l in links])
    requester_side = _requester_side(session, ids)
    messages = _message_facts(session, ids)
    events = _events(session, ids)
    children: dict[str, list[str]] = defaultdict(list)
    for entry in entries:
        if entry.parent_ref:
            children[entry.parent_ref].append(entry.ref)
    account_of = {e.ref: e.account for e in entries}

    nodes = []
    for entry in entries:
        current = tickets[entry.ref]
        link = link_by_child.get(current.id) if entry.parent_ref else None
        holders = [c for c in children[entry.ref] if link_by_child[tickets[c].id].state in OPEN_LINK_STATES]
        responded = earliest(
            first_response_at(current.created_at, messages[current.id], requester_side[current.id]),
            first_recorded_response(events[current.id]),
        )
        nodes.append(ChainNode(
            ref=entry.ref,
            account=entry.account,
            account_name=entry.account_name,
            status=entry.status,
            depth=entry.depth,
            parent=entry.parent_ref,
            children=children[entry.ref],
            assignee=current.assignee,
            held_by=account_of[holders[-1]] if holders else entry.account,
            created_at=current.created_at,
            time_to_first_response=seconds_between(current.created_at, responded),
            time_to_resolve=seconds_between(current.created_at, first_resolved_at(events[current.id])),
            link=link_times(link, now, _ended_at(link, events[current.id]), link_deadlines[link.id]) if link else None,
        ))
    return ChainTimings(ref=ticket.ref, root=entries[0].ref, nodes=nodes)


def _ended_at(link: Link, events: Iterable[Event]) -> datetime | None:
    """When a link ended without a resolution (recalled or declined), from its event."""
    times = [e.at for e in events if e.link_id == link.id and e.type in ("link_recalled", "link_declined")]
    return min(times) if times else None


def _requester_side(session: Session, ids: list[int]) -> dict[int, set[str]]:
    """Addresses of each ticket's requester and copied contacts (who cannot 'respond')."""
    side: dict[int, set[str]] = defaultdict(set)
    rows = session.execute(
        select(Participant.ticket_id, Participant.email).where(
            Participant.ticket_id.in_(ids), Participant.role.in_(("requester", "cc")), Participant.email.is_not(None)
        )
    )
    for ticket_id, email in rows:
        side[ticket_id].add(email.lower())
    return side


def _message_facts(session: Session, ids: list[int]) -> dict[int, list[MessageFact]]:
    facts: dict[int, list[MessageFact]] = defaultdict(list)
    rows = session.execute(
        select(Message.ticket_id, Message.direction, Message.visibility, Message.from_email, Message.created_at)
        .where(Message.ticket_id.in_(ids))
        .order_by(Message.created_at, Message.id)
    )
    for ticket_id, direction, visibility, from_email, created_at in rows:
        facts[ticket_id].append(MessageFact(direction, visibility, from_email, created_at))
    return facts


def _events(session: Session, ids: list[int]) -> dict[int, list[Event]]:
    events: dict[int, list[Event]] = defaultdict(list)
    for event in session.scalars(select(Event).where(Event.ticket_id.in_(ids)).order_by(Event.at, Event.id)):
        events[event.ticket_id].append(event)
    return events

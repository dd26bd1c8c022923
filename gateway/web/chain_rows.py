"""The Chains screen's data: an account's open work as chains, longest held first, a page at a time.

A row is one of the account's tickets that no ticket of the same account
handed down: a customer's request, or work a client account handed to it.
Each row carries its whole chain — the hops above it (when it was handed
to this account) and every hop below — read level by level with one query
per level for the whole page, never one per ticket.  Tickets of other
accounts appear with ref, account name and status only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, Select, exists, func, or_, select
from sqlalchemy.orm import Session, aliased, joinedload

from gateway.desk import deadlines
from gateway.desk.chain import MAX_DEPTH
from gateway.desk.links import ACTIVE_STATES
from storage.deadline_models import Deadline
from storage.models import Account, Link, Participant, Ticket

PAGE_SIZE = 25
OPEN_WORK = ("new", "open", "pending")
STATUS_FILTERS = ("open work", "new", "open", "pending", "resolved", "closed", "cancelled", "all")
CUSTOMER_ROLES = ("requester", "contact")


@dataclass(frozen=True)
class ChainFilters:
    status: str = "open work"
    partner: str = ""  # slug of a partner the row's ticket was handed to
    waiting: str = ""  # "" | "us" | "partner"
    overdue: bool = False  # only chains where a partner of this account is past a deadline (§14)
    q: str = ""
    page: int = 1


@dataclass(frozen=True)
class Hop:
    """One ticket of a row's chain; `own` tickets are the viewer's account's."""

    ref: str
    account_name: str
    status: str
    depth: int
    own: bool
    link_state: str | None  # the link that handed this ticket down, None for the chain's top
    deadline: str | None = None  # that link's deadline state: on_track, at_risk, breached, paused, met


@dataclass
class ChainRow:
    ticket: Ticket
    customer: str
    hops: list[Hop] = field(default_factory=list)
    holder: str = ""
    held_since: datetime | None = None
    waiting_on_partner: bool = False
    overdue: bool = False
    last_activity: datetime | None = None


@dataclass(frozen=True)
class ChainPage:
    rows: list[ChainRow]
    total: int
    page: int
    pages: int


def chain_page(session: Session, account: Account, filters: ChainFilters, now: datetime) -> ChainPage:
    """One page of the account's chains under `filters`, longest held first."""
    query, held_since = _rows_query(account, filters, now)
    page = max(1, filters.page)
    found = _page_of(session, query, held_since, page)
    if not found and page > 1:  # past the end (a stale link): the last page instead
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        page = max(1, -(-total // PAGE_SIZE))
        found = _page_of(session, query, held_since, page)
    total = found[0][2] if found else 0
    rows = [ChainRow(ticket=ticket, customer="", held_since=since) for ticket, since, _ in found]
    _fill_chains(session, account, rows, now)
    return ChainPage(rows=rows, total=total, page=page, pages=max(1, -(-total // PAGE_SIZE)))


def _page_of(session: Session, query: Select, held_since: ColumnElement, page: int) -> list:
    """One page of (ticket, held since, number of rows in all pages): the count comes with the rows."""
    return session.execute(
        query.add_columns(held_since, func.count().over()).order_by(held_since, Ticket.id)
        .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()


def _rows_query(account: Account, filters: ChainFilters, now: datetime) -> tuple[Select, ColumnElement]:
    """The row tickets (no same-account parent) under the filters, and when their current holder got them."""
    upstream, upstream_parent = aliased(Link), aliased(Ticket)
    active_since = (select(func.min(Link.created_at))
                    .where(Link.parent_ticket_id == Ticket.id, Link.state.in_(ACTIVE_STATES))
                    .correlate(Ticket).scalar_subquery())
    returned_at = (select(func.max(Link.resolved_at)).where(Link.parent_ticket_id == Ticket.id)
                   .correlate(Ticket).scalar_subquery())
    held_since = func.coalesce(active_since, returned_at, Ticket.created_at).label("held_since")
    query = (
        select(Ticket)
        .outerjoin(upstream, upstream.child_ticket_id == Ticket.id)
        .outerjoin(upstream_parent, upstream_parent.id == upstream.parent_ticket_id)
        .where(Ticket.account_id == account.id,
               or_(upstream.id.is_(None), upstream_parent.account_id != account.id))
    )
    if filters.status == "open work":
        query = query.where(Ticket.status.in_(OPEN_WORK))
    elif filters.status != "all":
        query = query.where(Ticket.status == filters.status)
    if filters.waiting == "partner":
        query = query.where(active_since.is_not(None))
    elif filters.waiting == "us":
        query = query.where(active_since.is_(None))
    if filters.partner:
        child, partner = aliased(Ticket), aliased(Account)
        query = query.where(exists().where(
            Link.parent_ticket_id == Ticket.id, Link.child_ticket_id == child.id,
            child.account_id == partner.id, partner.slug == filters.partner))
    if filters.q.strip():
        query = query.where(_matches(filters.q.strip()))
    if filters.overdue:
        query = query.where(_overdue(now))
    return query, held_since


def _overdue(now: datetime) -> ColumnElement[bool]:
    """A handoff from the ticket is past a deadline that is not met (what `deadlines.is_overdue` says)."""
    late = or_(Deadline.state == deadlines.BREACHED,
               (Deadline.state == deadlines.RUNNING) & (Deadline.due_at <= now))
    return exists().where(Link.parent_ticket_id == Ticket.id, Link.state.in_(ACTIVE_STATES),
                          Deadline.link_id == Link.id, Deadline.met_at.is_(None), late)


def _matches(q: str) -> ColumnElement[bool]:
    """Ref, subject or customer (name or address) contains the search words."""
    pattern = f"%{q}%"
    customer = exists().where(Participant.ticket_id == Ticket.id, Participant.role.in_(CUSTOMER_ROLES),
                              or_(Participant.email.ilike(pattern), Participant.name.ilike(pattern)))
    return or_(Ticket.ref == q.upper(), Ticket.subject.ilike(pattern), customer)


def _fill_chains(session: Session, account: Account, rows: Sequence[ChainRow], now: datetime) -> None:
    """Hops, holder, deadlines and customer of every row, with a few queries for the whole page."""
    if not rows:
        return
    ids = [row.ticket.id for row in rows]
    down = _links_down(session, ids)
    up = _links_up(session, ids)
    customers = _customers(session, ids)
    clocks = deadlines.by_link(session, [l.id for links in down.values() for l in links] + [l.id for l in up.values()])
    states = {link_id: deadlines.link_state(found, now) for link_id, found in clocks.items()}
    for row in rows:
        ancestors = _ancestors(up, row.ticket.id)
        row.customer = customers.get(row.ticket.id, "")
        row.hops = [
            *(Hop(t.ref, t.account.name, t.status, depth, t.account_id == account.id, state)
              for depth, (t, state) in enumerate(ancestors)),
            *_descendants(down, row.ticket, len(ancestors), up.get(row.ticket.id), account.id, states),
        ]
        row.overdue = any(deadlines.is_overdue(clocks.get(l.id, []), now)
                          for l in down.get(row.ticket.id, []) if l.state in ACTIVE_STATES)
        holding = _deepest_active(down, row.ticket)
        row.waiting_on_partner = holding is not None
        row.holder = holding.child.account.name if holding is not None else account.name
        if holding is not None:
            row.held_since = holding.created_at
        row.last_activity = max([row.ticket.updated_at, *(l.child.updated_at for l in _all(down, row.ticket.id))])


def _links_down(session: Session, ids: Iterable[int]) -> dict[int, list[Link]]:
    """Every link below the given tickets, by parent id."""
    by_parent: dict[int, list[Link]] = defaultdict(list)
    for link in _walk(session, ids, down=True):
        by_parent[link.parent_ticket_id].append(link)
    return by_parent


def _links_up(session: Session, ids: Iterable[int]) -> dict[int, Link]:
    """Every link above the given tickets, by child id."""
    return {link.child_ticket_id: link for link in _walk(session, ids, down=False)}


def _walk(session: Session, ids: Iterable[int], *, down: bool) -> list[Link]:
    """The links below (or above) the given tickets, in one recursive query, the far ticket loaded.

    UNION (not UNION ALL) ends the recursion even on a corrupt cycle that
    handoffs can never make.
    """
    near, far = (Link.parent_ticket_id, Link.child_ticket_id) if down else (Link.child_ticket_id, Link.parent_ticket_id)
    start = select(Link.id.label("id"), far.label("next")).where(near.in_(list(ids))).cte("walk", recursive=True)
    walk = start.union(select(Link.id, far).join(start, near == start.c.next))
    far_ticket = Link.child if down else Link.parent
    return list(session.scalars(select(Link).where(Link.id.in_(select(walk.c.id)))
                                .options(joinedload(far_ticket).joinedload(Ticket.account)).order_by(Link.id)))


def _ancestors(up: dict[int, Link], ticket_id: int) -> list[tuple[Ticket, str | None]]:
    """The tickets above `ticket_id`, root first, each with the link state that handed it down."""
    chain: list[tuple[Ticket, str | None]] = []
    link = up.get(ticket_id)
    while link is not None and len(chain) < MAX_DEPTH:
        above = up.get(link.parent_ticket_id)
        chain.append((link.parent, above.state if above else None))
        link = above
    chain.reverse()
    return chain


def _descendants(down: dict[int, list[Link]], top: Ticket, depth: int, handed: Link | None,
                 own_account: int, states: dict[int, str | None]) -> list[Hop]:
    """`top` and everything below it, depth first, each with the state and deadline of the link above it."""
    hops: list[Hop] = []
    stack: list[tuple[Ticket, int, Link | None]] = [(top, depth, handed)]
    while stack and len(hops) < 500:
        ticket, level, link = stack.pop()
        hops.append(Hop(ticket.ref, ticket.account.name, ticket.status, level, ticket.account_id == own_account,
                        link.state if link else None, states.get(link.id) if link else None))
        stack.extend((l.child, level + 1, l) for l in reversed(down.get(ticket.id, [])))
    return hops


def _deepest_active(down: dict[int, list[Link]], top: Ticket) -> Link | None:
    """The active link furthest down the chain from `top`: whoever holds the work now."""
    holding: Link | None = None
    current = top.id
    for _ in range(MAX_DEPTH):
        active = [l for l in down.get(current, []) if l.state in ACTIVE_STATES]
        if not active:
            break
        holding = active[-1]
        current = holding.child_ticket_id
    return holding


def _all(down: dict[int, list[Link]], ticket_id: int) -> list[Link]:
    found, stack = [], [ticket_id]
    while stack and len(found) < 500:
        for link in down.get(stack.pop(), []):
            found.append(link)
            stack.append(link.child_ticket_id)
    return found


def _customers(session: Session, ids: list[int]) -> dict[int, str]:
    """The customer of each row: its requester (a root) or the contact carried down (a handed ticket)."""
    rows = session.execute(
        select(Participant.ticket_id, Participant.role, Participant.name, Participant.email)
        .where(Participant.ticket_id.in_(ids), Participant.role.in_(CUSTOMER_ROLES)).order_by(Participant.id)
    )
    found: dict[int, str] = {}
    for ticket_id, role, name, email in rows:
        if ticket_id not in found or role == "contact":
            found[ticket_id] = name or email or ""
    return found

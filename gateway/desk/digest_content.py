"""What an account's daily digest says: work waiting on partners, on the account itself, ratings owed.

Read with a fixed number of queries per account (links and their
deadlines, tickets and their upstream deadlines), so a digest costs the
same however much work is open.  Overdue items come first in each list:
the digest exists so that nothing late goes unnoticed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from gateway.desk import deadlines
from gateway.desk.links import ACTIVE_STATES, RESOLVED
from storage.models import InboxItem, Link, OutboxItem, Ticket

WAITING_STATUSES = ("new", "open")
FAILED_WITHIN = timedelta(days=1)
# Sort order of deadline states within a list: the worst first, work without terms last.
_RANK = {deadlines.BREACHED: 0, deadlines.AT_RISK: 1, deadlines.PAUSED: 2, deadlines.ON_TRACK: 3, None: 4}


@dataclass(frozen=True)
class Item:
    """One line of the digest: a ticket, what it is about and how it stands against its terms."""

    ref: str
    subject: str
    detail: str
    state: str | None
    due_at: datetime | None


@dataclass(frozen=True)
class DigestContent:
    on_partners: list[Item]
    on_us: list[Item]
    to_rate: list[Item]
    parked: list[Item] = field(default_factory=list)  # for operators: mail the pipeline could not apply
    failed: list[Item] = field(default_factory=list)  # for operators: deliveries given up

    @property
    def empty(self) -> bool:
        return not (self.on_partners or self.on_us or self.to_rate or self.parked or self.failed)


def digest_content(session: Session, account_id: int, now: datetime) -> DigestContent:
    parent, child = aliased(Ticket), aliased(Ticket)
    handed = session.execute(
        select(Link, child).join(parent, Link.parent_ticket_id == parent.id)
        .join(child, Link.child_ticket_id == child.id).where(parent.account_id == account_id)
        .where(Link.state.in_([*ACTIVE_STATES, RESOLVED])).order_by(Link.created_at)
    ).all()
    found = deadlines.by_link(session, [link.id for link, _ in handed])
    on_partners = [_item(c, f"{c.account.name}, for {link.parent.ref}", found[link.id], now)
                   for link, c in handed if link.state in ACTIVE_STATES]
    to_rate = [Item(link.parent.ref, link.parent.subject, f"{c.ref} resolved by {c.account.name}: #rate 1-5",
                    None, None) for link, c in handed if link.state == RESOLVED]
    return DigestContent(_ordered(on_partners), _ordered(_waiting_on(session, account_id, now)), to_rate)


def operator_content(session: Session, content: DigestContent, now: datetime) -> DigestContent:
    """`content` with the installation's parked mail and the deliveries that failed in the last day."""
    parked = session.scalars(select(InboxItem).where(InboxItem.status == "parked").order_by(InboxItem.id))
    failed = session.scalars(select(OutboxItem).where(OutboxItem.status == "failed",
                                                      OutboxItem.created_at >= now - FAILED_WITHIN)
                             .order_by(OutboxItem.id))
    return replace(
        content,
        parked=[Item(f"inbox #{i.id}", (i.envelope or {}).get("mail_from") or i.channel, i.error or "parked",
                     None, None) for i in parked],
        failed=[Item((o.payload or {}).get("ref") or f"outbox #{o.id}", f"{o.kind} to {o.recipient}",
                     o.error or "failed", None, None) for o in failed],
    )


def _waiting_on(session: Session, account_id: int, now: datetime) -> list[Item]:
    """The account's open tickets that no partner holds; a child's own terms (upstream) mark it late."""
    tickets = list(session.scalars(select(Ticket).where(Ticket.account_id == account_id,
                                                        Ticket.status.in_(WAITING_STATUSES))
                                   .order_by(Ticket.created_at)))
    ids = [t.id for t in tickets]
    held = set(session.scalars(select(Link.parent_ticket_id).where(Link.parent_ticket_id.in_(ids),
                                                                  Link.state.in_(ACTIVE_STATES))))
    upstream = {link.child_ticket_id: link for link in session.scalars(select(Link).where(Link.child_ticket_id.in_(ids)))}
    found = deadlines.by_link(session, [link.id for link in upstream.values()])
    items = []
    for ticket in tickets:
        if ticket.id in held:
            continue
        link = upstream.get(ticket.id)
        detail = f"{ticket.status}, for {link.parent.ref} ({link.parent.account.name})" if link else ticket.status
        items.append(_item(ticket, detail, found[link.id] if link else [], now))
    return items


def _item(ticket: Ticket, detail: str, link_deadlines: list, now: datetime) -> Item:
    state = deadlines.link_state(link_deadlines, now)
    open_ones = [d.due_at for d in link_deadlines if d.state == deadlines.RUNNING and d.due_at is not None]
    return Item(ticket.ref, ticket.subject, detail, state if state != deadlines.MET else None,
                min(open_ones) if open_ones else None)


def _ordered(items: list[Item]) -> list[Item]:
    return sorted(items, key=lambda item: _RANK.get(item.state, 4))

"""A small, fixed world of handed-off tickets with known timestamps.

Every figure the report and the chain timings should give for it is worked
out by hand in the tests, so the tests check arithmetic, not the code
against itself.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Account, Event, Link, Message, Participant, Ticket

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)


def at(seconds: float, base: datetime = T0) -> datetime:
    return base + timedelta(seconds=seconds)


class World:
    """Creates tickets and links directly, with the timestamps a test asks for."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.accounts = {a.slug: a for a in session.scalars(select(Account))}

    def ticket(self, slug: str, created: datetime, status: str = "open", requester: str | None = None) -> Ticket:
        account = self.accounts[slug]
        account.last_number += 1
        ticket = Ticket(
            account_id=account.id, number=account.last_number, ref=f"{account.prefix}-{account.last_number}",
            subject="Printer jams", status=status, created_at=created, updated_at=created,
        )
        self.session.add(ticket)
        self.session.flush()
        if requester:
            self.session.add(Participant(ticket_id=ticket.id, role="requester", email=requester))
        return ticket

    def link(self, parent: Ticket, child: Ticket, created: datetime, accepted: datetime | None = None,
             resolved: datetime | None = None, rating: int | None = None, state: str | None = None) -> Link:
        if state is None:
            state = "rated" if rating else "resolved" if resolved else "accepted" if accepted else "handed_off"
        link = Link(
            parent_ticket_id=parent.id, child_ticket_id=child.id, state=state, created_at=created,
            accepted_at=accepted, resolved_at=resolved, rating=rating,
            rated_at=resolved + timedelta(hours=1) if rating and resolved else None,
        )
        self.session.add(link)
        self.session.flush()
        return link

    def message(self, ticket: Ticket, when: datetime, sender: str, direction: str = "in",
                visibility: str = "public") -> Message:
        message = Message(
            ticket_id=ticket.id, source_key=f"test:{when.isoformat()}:{sender}", direction=direction,
            visibility=visibility, channel="smtp", from_email=sender, created_at=when,
        )
        self.session.add(message)
        self.session.flush()
        return message

    def status(self, ticket: Ticket, when: datetime, to: str) -> None:
        self.session.add(Event(ticket_id=ticket.id, type="status_changed", detail={"from": ticket.status, "to": to}, at=when))
        ticket.status = to
        self.session.flush()

"""Tickets opened in the current transaction: what the database could only confirm is empty.

A new ticket's first mail used to ask the database whether the ticket
already had this participant, this Message-ID, any participants at all —
questions whose answer is "only what this transaction added", since
nothing else can see the row yet.  Those rows have one writer each
(`add_participant`, `remember_message_id`), so they note what they add
here and readers answer from memory.  The record lives in the session
(one per transaction) and holds the ticket object itself: a savepoint
rolled back takes the ticket with it, and a later ticket that reuses its
id is a different object, so it is never mistaken for this one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from storage.models import Ticket

_OPENED = "tickets opened in this transaction"


@dataclass
class Opened:
    """What this transaction recorded on a ticket it opened."""

    ticket: Ticket
    message_ids: set[str] = field(default_factory=set)


def mark_opened(session: Session, ticket: Ticket) -> None:
    """Note a flushed new ticket; its participants are known (none yet) without a query."""
    session.info.setdefault(_OPENED, {})[ticket.id] = Opened(ticket)
    set_committed_value(ticket, "participants", [])


def opened_now(session: Session, ticket: Ticket) -> Opened | None:
    """The record of `ticket` when this transaction opened it, else None (ask the database)."""
    record = session.info.get(_OPENED, {}).get(ticket.id)
    return record if record is not None and record.ticket is ticket else None

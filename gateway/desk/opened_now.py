"""Tickets opened in the current transaction: what the database could only confirm is empty.

A new ticket's first mail used to ask the database whether the ticket
already had this participant, this Message-ID, any participants at all,
which mail its requester last sent and was last sent — questions whose
answer is "only what this transaction added", since nothing else can see
the row yet.  Those rows have one writer each (`add_participant`,
`remember_message_id`, `add_message`, `queue_mail`), so they note what they
add here and readers answer from memory.  The record lives in the session
(one per transaction) and holds the ticket object itself: a later ticket
that reuses its id is a different object, so it is never mistaken for this
one.  Any rollback (a savepoint included) forgets every record, since
memory cannot tell what the rollback undid; readers then ask the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.orm.attributes import set_committed_value

from storage.models import Ticket

_OPENED = "tickets opened in this transaction"


@dataclass
class Opened:
    """What this transaction recorded on a ticket it opened."""

    ticket: Ticket
    message_ids: set[str] = field(default_factory=set)
    # Per address: (created_at, Message-ID) of the newest mail from them with one, and of ours to them.
    theirs: dict[str, tuple[datetime, str]] = field(default_factory=dict)
    ours: dict[str, tuple[datetime, str | None]] = field(default_factory=dict)

    def conversation_ends(self, email: str) -> list[tuple[datetime, str | None]]:
        """What `storage.repositories.conversation_ends` would find for `email` on this ticket."""
        return [end for end in (self.theirs.get(email), self.ours.get(email)) if end is not None]


def mark_opened(session: Session, ticket: Ticket) -> None:
    """Note a flushed new ticket; its participants are known (none yet) without a query."""
    session.info.setdefault(_OPENED, {})[ticket.id] = Opened(ticket)
    set_committed_value(ticket, "participants", [])


def opened_now(session: Session, ticket: Ticket) -> Opened | None:
    """The record of `ticket` when this transaction opened it, else None (ask the database)."""
    record = session.info.get(_OPENED, {}).get(ticket.id)
    return record if record is not None and record.ticket is ticket else None


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, _previous: SessionTransaction) -> None:
    """A rollback, of a savepoint too, may have undone what the records say: ask the database from now on."""
    session.info.pop(_OPENED, None)

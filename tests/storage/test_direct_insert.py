"""Rows written at once: persistent with id and defaults, nothing left for a flush, gone with a rollback."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.core.runtime import Runtime
from storage.clock import event_time
from storage.deferred_inserts import defer_insert
from storage.direct_insert import insert_now
from storage.models import Message, Participant
from tests.storage.conftest import writes


def _message(ticket_id: int, **changes: object) -> Message:
    values = dict(ticket_id=ticket_id, source_key="k", direction="in", visibility="public", channel="smtp",
                  from_email="a@client.example", to=["support@vendor.example"], attachments=[])
    values.update(changes)
    return Message(**values)


def test_the_row_is_written_at_once_and_the_object_is_its_persistent_copy(runtime: Runtime, ticket_id: int) -> None:
    with writes(runtime) as seen, runtime.db.transaction() as session:
        message = insert_now(session, _message(ticket_id))
        assert seen == ["INSERT INTO MESSAGES"]
        assert message.id is not None and message in session and message not in session.new
        assert message.created_at is not None and message.subject == "" and message.unverified is False  # defaults
        assert session.get(Message, message.id) is message
        assert message.ticket.id == ticket_id
        session.flush()
        assert seen == ["INSERT INTO MESSAGES"]  # nothing left as a change: no UPDATE follows
        message.subject = "changed later"
    with runtime.db.transaction() as session:
        stored = session.get(Message, message.id)
        assert (stored.subject, stored.to, stored.from_email) == ("changed later", ["support@vendor.example"],
                                                                   "a@client.example")


def test_a_rolled_back_transaction_takes_the_row_with_it(runtime: Runtime, ticket_id: int) -> None:
    class Undo(Exception):
        pass

    with pytest.raises(Undo), runtime.db.transaction() as session:
        written = insert_now(session, Participant(ticket_id=ticket_id, role="requester", email="x@client.example"))
        assert written.id is not None
        raise Undo
    with runtime.db.transaction() as session:
        assert session.scalars(select(Participant).where(Participant.ticket_id == ticket_id)).all() == []


def test_a_savepoint_rolled_back_drops_the_row_and_the_transaction_goes_on(runtime: Runtime, ticket_id: int) -> None:
    with runtime.db.transaction() as session:
        kept = insert_now(session, Participant(ticket_id=ticket_id, role="requester", email="kept@client.example"))
        savepoint = session.begin_nested()
        dropped = insert_now(session, Participant(ticket_id=ticket_id, role="cc", email="dropped@client.example"))
        savepoint.rollback()
        assert dropped not in session and kept in session
        again = insert_now(session, Participant(ticket_id=ticket_id, role="cc", email="again@client.example"))
        assert session.get(Participant, again.id) is again  # an id given out again (SQLite) is the new row's
        kept_id = kept.id
    with runtime.db.transaction() as session:
        emails = session.scalars(select(Participant.email).where(Participant.ticket_id == ticket_id)
                                .order_by(Participant.id)).all()
        assert emails == ["kept@client.example", "again@client.example"] and kept_id is not None


def test_deferred_rows_of_the_same_table_go_first(runtime: Runtime, ticket_id: int) -> None:
    with runtime.db.transaction() as session:
        defer_insert(session, Message.__table__, {
            "ticket_id": ticket_id, "source_key": "deferred", "direction": "in", "visibility": "public",
            "channel": "smtp", "to": [], "cc": [], "created_at": event_time()})
        insert_now(session, _message(ticket_id, source_key="direct"))
    with runtime.db.transaction() as session:
        assert _source_keys(session, ticket_id) == ["deferred", "direct"]


def _source_keys(session: Session, ticket_id: int) -> list[str]:
    return list(session.scalars(select(Message.source_key).where(Message.ticket_id == ticket_id)
                                .order_by(Message.id)))

"""Deferred rows: written together at commit, visible to a read of their table, gone with a rolled-back savepoint."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.core.runtime import Runtime
from storage.clock import event_time
from storage.deferred_inserts import defer_insert
from storage.models import Account, Event, Ticket
from tests.storage.conftest import writes

EVENTS = Event.__table__


def _row(ticket_id: int, type_: str) -> dict:
    return {"ticket_id": ticket_id, "type": type_, "detail": {}, "link_id": None, "at": event_time()}


def _types(runtime: Runtime, ticket_id: int) -> list[str]:
    with runtime.db.transaction() as session:
        return list(session.scalars(select(Event.type).where(Event.ticket_id == ticket_id).order_by(Event.id)))


def test_rows_are_written_in_one_statement_at_commit(runtime: Runtime, ticket_id: int) -> None:
    with writes(runtime) as inserts, runtime.db.transaction() as session:
        for type_ in ("first", "second", "third"):
            defer_insert(session, EVENTS, _row(ticket_id, type_))
        session.scalar(select(func.count(Account.id)))  # another table: nothing written yet
        assert inserts == []
    assert inserts == ["INSERT INTO EVENTS"]
    assert _types(runtime, ticket_id) == ["first", "second", "third"]


def test_a_read_of_the_table_sees_the_rows(runtime: Runtime, ticket_id: int) -> None:
    with runtime.db.transaction() as session:
        defer_insert(session, EVENTS, _row(ticket_id, "seen"))
        count = select(func.count(Event.id)).where(Event.ticket_id == ticket_id)
        assert session.scalar(count) == 1
        joined = select(Ticket.ref).join(Event, Event.ticket_id == Ticket.id).where(Event.type == "seen")
        defer_insert(session, EVENTS, _row(ticket_id, "seen"))
        assert session.scalars(joined).all() == ["T-9001", "T-9001"]
    assert _types(runtime, ticket_id) == ["seen", "seen"]


def test_a_rolled_back_savepoint_drops_only_its_own_rows(runtime: Runtime, ticket_id: int) -> None:
    with runtime.db.transaction() as session:
        defer_insert(session, EVENTS, _row(ticket_id, "before"))
        with pytest.raises(RuntimeError), session.begin_nested():
            defer_insert(session, EVENTS, _row(ticket_id, "inside"))
            raise RuntimeError("the step failed")
        with session.begin_nested():
            defer_insert(session, EVENTS, _row(ticket_id, "kept savepoint"))
        defer_insert(session, EVENTS, _row(ticket_id, "after"))
    assert _types(runtime, ticket_id) == ["before", "kept savepoint", "after"]


def test_a_rolled_back_transaction_writes_nothing(runtime: Runtime, ticket_id: int) -> None:
    with pytest.raises(RuntimeError), runtime.db.transaction() as session:
        defer_insert(session, EVENTS, _row(ticket_id, "lost"))
        raise RuntimeError("the mail failed")
    with runtime.db.transaction() as session:
        defer_insert(session, EVENTS, _row(ticket_id, "next"))
    assert _types(runtime, ticket_id) == ["next"]


def test_deferring_needs_a_transaction(runtime: Runtime) -> None:
    with Session(runtime.db.engine) as session, pytest.raises(RuntimeError, match="transaction"):
        defer_insert(session, EVENTS, {})

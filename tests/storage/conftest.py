"""What the storage tests share: a ticket to hang rows on, and a record of the writes a block sends."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from gateway.core.runtime import Runtime
from storage.models import Account, Ticket


@pytest.fixture
def ticket_id(runtime: Runtime) -> int:
    """A ticket of the first account, numbered far from anything the seed data makes."""
    with runtime.db.transaction() as session:
        account = session.scalars(select(Account).order_by(Account.id)).first()
        ticket = Ticket(account_id=account.id, number=9001, ref="T-9001", subject="storage")
        session.add(ticket)
        session.flush()
        return ticket.id


@contextmanager
def writes(runtime: Runtime) -> Iterator[list[str]]:
    """The first three words of every INSERT, UPDATE and DELETE sent inside the block, upper-cased."""
    seen: list[str] = []

    def on_statement(conn, cursor, statement: str, *args: object) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            seen.append(" ".join(statement.split()[:3]).upper())

    event.listen(runtime.db.engine, "before_cursor_execute", on_statement)
    try:
        yield seen
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", on_statement)

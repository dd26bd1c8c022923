"""Rows that nothing reads back in their transaction, written together just before they are needed.

An ORM insert costs a flush and a statement for each row (SQLite cannot
batch them: it has no insert sentinel to match generated ids to rows).
Rows whose id no one asks for — the events of a mail, most often a new
ticket's `ticket_created` and its first `message_added` — are kept in the
session instead and written as one multi-row statement on the transaction's
own connection: before it commits, before a statement of this session that
reads their table, or on request (`write_deferred`).  So they commit or
roll back with everything else.  A rolled-back savepoint drops the rows
deferred inside it, and only those.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Executable, Table, event, insert
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction
from sqlalchemy.sql.util import find_tables

_DEFERRED = "rows deferred to the next write"


@dataclass
class _Row:
    table: Table
    values: dict[str, Any]
    transaction: SessionTransaction  # the innermost transaction the row was deferred in


def defer_insert(session: Session, table: Table, values: dict[str, Any]) -> None:
    """Insert `values` into `table` with this transaction's next write of the table, or at commit."""
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction is None:
        raise RuntimeError("defer_insert needs a transaction to write in")
    session.info.setdefault(_DEFERRED, []).append(_Row(table, values, transaction))


def write_deferred(session: Session, table: Table | None = None) -> None:
    """Write the deferred rows (of `table`, else all), one statement per table, oldest first."""
    rows: list[_Row] = session.info.get(_DEFERRED) or []
    due = [row for row in rows if table is None or row.table is table]
    if not due:
        return
    session.info[_DEFERRED] = [row for row in rows if row not in due]
    connection = session.connection()
    for target in dict.fromkeys(row.table for row in due):
        connection.execute(insert(target), [row.values for row in due if row.table is target])


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.info.get(_DEFERRED):
        session.flush()  # rows they refer to first
        write_deferred(session)


@event.listens_for(Session, "do_orm_execute")
def _before_reading(state: ORMExecuteState) -> None:
    """A statement that touches a table with deferred rows sees them: they are written first."""
    rows: list[_Row] = state.session.info.get(_DEFERRED) or []
    if not rows:
        return
    touched = _tables_of(state.statement)
    for table in dict.fromkeys(row.table for row in rows):
        if table in touched:
            write_deferred(state.session, table)


@lru_cache(maxsize=512)
def _tables_of(statement: Executable) -> frozenset[Table]:
    """The tables a statement touches; remembered, since the statements every mail runs are built once."""
    return frozenset(find_tables(statement, include_joins=True, include_selects=True, include_crud=True))


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous: SessionTransaction) -> None:
    """Forget the rows deferred in the rolled-back transaction or in savepoints within it."""
    rows: list[_Row] = session.info.get(_DEFERRED) or []
    session.info[_DEFERRED] = [row for row in rows if not within(row.transaction, previous)]


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    session.info.pop(_DEFERRED, None)


def within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    """Whether `transaction` is `ancestor` or a savepoint inside it."""
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False

"""New rows written at once by one prebuilt statement, without a flush of the unit of work.

A caller that needs a new row's id at once (a message its refs and events
point at, the outbox item a Message-ID is counted against) used to add the
object and flush; on a mail's path those flushes were a fifth of the CPU,
most of it the unit of work sorting one object.  `insert_now` runs an
`INSERT … RETURNING` on the transaction's own connection instead and makes
the object the session's persistent copy of the row, so it commits or rolls
back with everything else and reads like any loaded object afterwards.  A
rollback, of a savepoint too, expunges the objects written within it, as
it would objects that a flush had inserted.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import Column, Insert, Table, event, insert
from sqlalchemy.orm import Mapper, Session, SessionTransaction, make_transient_to_detached, object_mapper

from storage.deferred_inserts import within, write_deferred

T = TypeVar("T")


def insert_now(session: Session, obj: T) -> T:
    """Write the transient `obj` as a new row now; it comes back persistent, with its id and defaults.

    Column defaults apply as in a flush.  Rows it refers to must be written
    already (they are whenever their ids are known).  Relationship
    collections set on `obj` are kept as loaded, not written: pass rows
    of other tables through the session as usual.
    """
    mapper = object_mapper(obj)
    table, columns = _shape(mapper)
    write_deferred(session, table)  # deferred rows of this table keep their order
    state = obj.__dict__
    values = {column: state[attribute] for column, attribute in columns if attribute in state}
    row = session.connection().execute(_statement(table), values).one()
    for (column, attribute), value in zip(columns, row, strict=True):
        state[attribute] = value
    make_transient_to_detached(obj)  # commits what is set: no history for the next flush to write
    session.add(obj)
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_WRITTEN, []).append((obj, transaction))
    return obj


_WRITTEN = "rows written directly"


@event.listens_for(Session, "after_soft_rollback")
def _expunge_rolled_back(session: Session, previous: SessionTransaction) -> None:
    """Objects whose rows the rollback undid leave the session (their ids may be given out again)."""
    written = session.info.get(_WRITTEN) or []
    for obj, transaction in written:
        if within(transaction, previous) and obj in session:
            session.expunge(obj)
    session.info[_WRITTEN] = [(obj, tx) for obj, tx in written if not within(tx, previous)]


@event.listens_for(Session, "after_commit")
def _forget_committed(session: Session) -> None:
    session.info.pop(_WRITTEN, None)


def column_attributes(mapper: Mapper, columns: Iterable[Column[Any]]) -> tuple[tuple[str, str], ...]:
    """(column name, attribute name) of each of `columns`, in their order: how a returned row fills an object."""
    by_column = {prop.columns[0].key: prop.key for prop in mapper.column_attrs}
    return tuple((column.key, by_column[column.key]) for column in columns)


@lru_cache(maxsize=32)
def _shape(mapper: Mapper) -> tuple[Table, tuple[tuple[str, str], ...]]:
    """The mapped table and its (column name, attribute name) pairs, in the table's column order."""
    return mapper.local_table, column_attributes(mapper, mapper.local_table.c)


@lru_cache(maxsize=32)
def _statement(table: Table) -> Insert:
    return insert(table).returning(*table.c)

"""Claims across workers: advisory locks, inbox items taken for a run, leases.

What two processes must not both do at once is decided here, in the
database, so a second worker or a restarted one never applies a mail twice
or polls a mailbox beside another poller.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import Row, bindparam, event, func, select, text, update
from sqlalchemy.orm import Session, SessionTransaction, make_transient_to_detached

from storage.channel_models import Lease
from storage.direct_insert import column_attributes
from storage.directory import STAMP_COLUMNS, note_stamp
from storage.models import InboxItem

# --- serialising --------------------------------------------------------------


def serialize_on(session: Session, key: str) -> None:
    """Until this transaction ends, no other one passes this call with the same key.

    For check-then-insert decisions that no unique constraint can guard
    (at most one error reply per day, one account sync at a time).  A
    PostgreSQL advisory lock, asked for once per transaction; SQLite lets
    only one writer in anyway.
    """
    if session.get_bind().dialect.name == "postgresql" and key not in _held(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _lock_id(key)})
        _held(session).add(key)


def _lock_id(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big", signed=True)


def _held(session: Session) -> set[str]:
    return session.info.setdefault(_HELD, set())


_HELD = "advisory locks held"


@event.listens_for(Session, "after_transaction_end")
def _release(session: Session, transaction: SessionTransaction) -> None:
    """The locks end with the transaction (a savepoint's end keeps them)."""
    if transaction.parent is None:
        session.info.pop(_HELD, None)


# --- inbox -----------------------------------------------------------------------


def lock_inbox_item(session: Session, inbox_id: int) -> InboxItem | None:
    """The inbox row, locked against other workers until this transaction ends.

    PostgreSQL takes a row lock (`FOR UPDATE`); SQLite's `BEGIN IMMEDIATE`
    already serialises writers, and `FOR UPDATE` is omitted there by SQLAlchemy.
    """
    return session.scalar(
        select(InboxItem).where(InboxItem.id == inbox_id).with_for_update().execution_options(populate_existing=True)
    )


_INBOX = InboxItem.__table__
_COUNT_RUN = (
    update(_INBOX)
    .where(_INBOX.c.id == bindparam("inbox_id"), _INBOX.c.status == "pending",
           _INBOX.c.attempts < bindparam("max_attempts"))
    .values(attempts=_INBOX.c.attempts + 1)
    .returning(_INBOX.c.channel, _INBOX.c.raw_sha256, _INBOX.c.sequence_key, _INBOX.c.raw)
)


def count_inbox_run(session: Session, inbox_id: int, max_attempts: int) -> Row | None:
    """Count a run of a pending item with attempts left; its channel, raw_sha256, sequence_key and raw, else None.

    Built once and run on the connection: the statement is the same for
    every mail, and the ORM has nothing to add to it.
    """
    return session.connection().execute(_COUNT_RUN, {"inbox_id": inbox_id, "max_attempts": max_attempts}).first()


# Every column but the unit's bytes, which the run already has (`count_inbox_run`): loaded on use, if ever.
_INBOX_COLUMNS = [column for column in _INBOX.c if column.key != "raw"]
_TAKE = (
    update(_INBOX)
    .where(_INBOX.c.id == bindparam("inbox_id"), _INBOX.c.status == "pending")
    .values(status="done", error=None)
    .returning(*_INBOX_COLUMNS, *STAMP_COLUMNS)
)
_TAKE_AND_LOCK = _TAKE.returning(func.pg_advisory_xact_lock(bindparam("lock_id")))
_INBOX_ATTRIBUTES = column_attributes(InboxItem.__mapper__, _INBOX_COLUMNS)


def take_pending_inbox_item(session: Session, inbox_id: int, serialize_key: str | None = None) -> InboxItem | None:
    """The inbox row marked done if it was pending (else None), locked until this transaction ends.

    One statement where a lock, a status check and an update at the end
    were three: the apply that follows runs in the same transaction, so a
    failure rolls the mark back with everything else and the item stays
    pending.  PostgreSQL row-locks the updated row like `FOR UPDATE`.  The
    same statement reads the directory's stamp, the transaction's next
    question otherwise, and on PostgreSQL takes `serialize_on(serialize_key)`.
    Run as a prebuilt Core statement (the ORM's UPDATE path costs ten times
    as much); the row it returns becomes the session's object for the item.
    """
    lock = serialize_key is not None and session.get_bind().dialect.name == "postgresql"
    statement, params = (_TAKE_AND_LOCK, {"inbox_id": inbox_id, "lock_id": _lock_id(serialize_key)}) if lock else (
        _TAKE, {"inbox_id": inbox_id})
    row = session.connection().execute(statement, params).first()
    if row is None:
        return None
    if lock:
        _held(session).add(serialize_key)
    columns = len(_INBOX_COLUMNS)
    note_stamp(session, tuple(row[columns:columns + len(STAMP_COLUMNS)]))
    values = row._mapping
    item = InboxItem(**{attribute: values[column] for column, attribute in _INBOX_ATTRIBUTES})
    make_transient_to_detached(item)
    return session.merge(item, load=False)


# --- leases ----------------------------------------------------------------------


def take_lease(session: Session, name: str, holder: str, until: datetime, now: datetime) -> bool:
    """Take or renew the lease `name` for `holder` until `until`; False while another holder's is current.

    Two processes creating the same lease at once make one transaction fail
    on the primary key; that caller tries again later.
    """
    row = session.get(Lease, name, with_for_update=True)
    if row is None:
        session.add(Lease(name=name, holder=holder, expires_at=until))
        session.flush()
        return True
    if row.holder != holder and row.expires_at > now:
        return False
    row.holder, row.expires_at = holder, until
    return True

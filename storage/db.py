"""Engine and session factory for SQLite (embedded) and PostgreSQL (at scale).

SQLite gets WAL and a busy timeout so the SMTP server and the in-process
worker can write at the same time without "database is locked" errors, and
`BEGIN IMMEDIATE` so a read-then-write transaction (numbering a ticket)
takes the write lock up front instead of failing half-way.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from storage.availability import Availability, is_unavailable
from storage.directory import Directory

DURABLE = "relaydesk_durable"  # execution option: False for a transaction whose commit may skip the fsync
CONNECT_TIMEOUT_SECONDS = 10  # PostgreSQL: how long a new connection may take before it counts as unavailable


def make_engine(url: str, *, begin: str = "BEGIN IMMEDIATE") -> Engine:
    """An engine for `url`; creates the SQLite file's directory if needed.

    `begin` is how a SQLite transaction starts: IMMEDIATE (the write lock up
    front) for units of work that may write, plain BEGIN for readers, which
    WAL lets run beside the writer.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _tune_sqlite(engine, begin)
        return engine
    # A database host that drops packets instead of refusing them would otherwise hold every connection
    # attempt for the operating system's TCP timeout (minutes), with a worker thread or an SMTP reply waiting.
    connect_args = {} if "connect_timeout" in parsed.query else {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, connect_args=connect_args)
    _tune_postgresql(engine)
    return engine


def _tune_sqlite(engine: Engine, begin: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:  # type: ignore[no-untyped-def]
        # The safety level can only change between transactions; a connection keeps the last one it was given.
        durable = connection.get_execution_options().get(DURABLE, True)
        if connection.info.get(DURABLE, True) != durable:
            connection.exec_driver_sql(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            connection.info[DURABLE] = durable
        connection.exec_driver_sql(begin)


def _tune_postgresql(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:  # type: ignore[no-untyped-def]
        if not connection.get_execution_options().get(DURABLE, True):
            connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")


class Database:
    """Holds the engine and hands out transactional sessions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.directory = Directory()
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, info={"directory": self.directory})
        self.directory.watch(self._sessions)
        # Readers on SQLite start with a plain BEGIN on an engine of their own (see `reading`).
        self._reader_engine = make_engine(url, begin="BEGIN") if self.dialect == "sqlite" else self.engine
        # SQLite has one writer; its busy handler makes waiting threads poll
        # with growing sleeps.  Threads of this process queue here instead and
        # are served in turn (other processes still meet the busy timeout).
        self._writer = threading.RLock() if self.dialect == "sqlite" else nullcontext()
        self.availability = Availability()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[Session]:
        """One unit of work: committed on success, rolled back on any error.

        `durable=False` commits without waiting for the disk (SQLite's
        `synchronous=NORMAL` in WAL mode, PostgreSQL's `synchronous_commit
        = off`): the commit survives the process crashing, not the machine
        losing power, and a later durable commit makes it durable too.  For
        bookkeeping whose loss costs a repeat, never a mail.

        Whether the database could be reached is noted on the way out, so an
        outage is logged once (`availability`), not by every caller.
        """
        try:
            with self._writer, self._sessions() as session, session.begin():
                if not durable:
                    session.connection(execution_options={DURABLE: False})
                yield session
        except BaseException as exc:
            if is_unavailable(exc):
                self.availability.failed(exc)
            raise
        self.availability.succeeded()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A unit of work that only reads (a web page): it waits for no writer of this process.

        On SQLite it runs on a second engine whose transactions start with a
        plain BEGIN, so pages render while the worker writes (WAL); on
        PostgreSQL it is an ordinary transaction.  Nothing written in it is
        kept: it is rolled back at the end.
        """
        try:
            with Session(self._reader_engine, expire_on_commit=False) as session:
                yield session  # closing the session rolls its transaction back
        except BaseException as exc:
            if is_unavailable(exc):
                self.availability.failed(exc)
            raise
        self.availability.succeeded()

    def session(self) -> Session:
        return self._sessions()

    def dispose(self) -> None:
        self.engine.dispose()
        self._reader_engine.dispose()

"""Real database errors for tests, provoked rather than constructed: what the driver really raises."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError


def statement_error(url: str, sql: str, **connect_args: object) -> DBAPIError:
    """The error SQLAlchemy raises for `sql` on a fresh connection to `url`."""
    engine = create_engine(url, connect_args=connect_args)
    try:
        with pytest.raises(DBAPIError) as raised, engine.connect() as connection:
            connection.execute(text(sql))
        return raised.value
    finally:
        engine.dispose()


@contextmanager
def locked_sqlite(path: Path) -> Iterator[str]:
    """The URL of a SQLite file another connection holds the write lock of."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE IF NOT EXISTS t (x INTEGER)")
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield f"sqlite:///{path}"
    finally:
        holder.close()


def database_locked(folder: Path) -> DBAPIError:
    """SQLite's "database is locked": the database cannot be used right now."""
    with locked_sqlite(folder / "locked.db") as url:
        return statement_error(url, "INSERT INTO t VALUES (1)", timeout=0)


def missing_table(folder: Path) -> DBAPIError:
    """SQLite's "no such table": an OperationalError about the statement, not about reaching the database."""
    return statement_error(f"sqlite:///{folder / 'empty.db'}", "SELECT * FROM no_such_table")

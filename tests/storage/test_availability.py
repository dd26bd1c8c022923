"""Telling "the database is away" from "this statement failed", and logging an outage once.

The errors are real ones, provoked on real databases: a refused connection,
a SQLite file locked by another writer, a PostgreSQL connection cut under a
live pool, against a statement cancelled by its timeout and a missing table.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from storage import db
from storage.availability import Availability, is_unavailable
from storage.db import Database
from tests.db_errors import (
    database_locked,
    locked_sqlite,
    missing_table,
    statement_error,
)
from tests.e2e.harness import free_port
from tests.services import PG_URL, fresh_postgres_database
from tests.tcp_proxy import TcpProxy


def test_a_refused_connection_is_unavailability() -> None:
    error = statement_error(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test", "SELECT 1")
    assert isinstance(error, OperationalError)
    assert is_unavailable(error)


def test_a_locked_sqlite_file_is_unavailability_a_missing_table_is_not(tmp_path: Path) -> None:
    with locked_sqlite(tmp_path / "busy.db") as url:
        locked = statement_error(url, "INSERT INTO t VALUES (1)", timeout=0)
        missing = statement_error(url, "SELECT * FROM no_such_table", timeout=0)
    assert "locked" in str(locked) and is_unavailable(locked)
    assert isinstance(missing, OperationalError) and not is_unavailable(missing)


@pytest.mark.postgres
def test_a_cancelled_statement_is_no_unavailability() -> None:
    with fresh_postgres_database() as url:
        cancelled = statement_error(url, "SET statement_timeout = 10; SELECT pg_sleep(1)")
    assert isinstance(cancelled, OperationalError)  # psycopg's QueryCanceled is an OperationalError
    assert not is_unavailable(cancelled)


def test_it_is_found_behind_the_exceptions_raised_from_it(tmp_path: Path) -> None:
    locked = database_locked(tmp_path)
    try:
        try:
            raise locked
        except DBAPIError as exc:
            raise RuntimeError("step store_message failed") from exc
    except RuntimeError as wrapped:
        assert is_unavailable(wrapped)
    assert not is_unavailable(RuntimeError("nothing about the database"))
    assert not is_unavailable(missing_table(tmp_path))


def test_an_outage_is_logged_once_with_a_reminder_and_the_recovery(tmp_path: Path, caplog) -> None:
    locked = database_locked(tmp_path)
    availability = Availability(remind_every=3600)
    caplog.set_level(logging.INFO, logger="storage.availability")
    availability.succeeded()
    for _ in range(5):
        availability.failed(locked)
    assert availability.down
    availability.succeeded()
    availability.succeeded()
    assert [r.getMessage().split(":")[0] for r in caplog.records] == ["database unavailable",
                                                                      "database reachable again after 0 s"]
    assert "database is locked" in caplog.records[0].getMessage()
    assert not availability.down

    caplog.clear()
    reminding = Availability(remind_every=0)
    reminding.failed(locked)
    reminding.failed(locked)
    assert [r.getMessage()[:30] for r in caplog.records] == ["database unavailable: database",
                                                             "database still unavailable aft"]


@pytest.mark.postgres
def test_a_database_cut_and_back_is_seen_by_its_transactions(caplog) -> None:
    upstream = make_url(PG_URL)
    with fresh_postgres_database() as url, TcpProxy((upstream.host or "127.0.0.1", upstream.port or 5432)) as proxy:
        database = Database(make_url(url).set(port=proxy.port).render_as_string(hide_password=False))
        caplog.set_level(logging.INFO, logger="storage.availability")
        try:
            with database.transaction() as session:
                session.execute(text("SELECT 1"))
            proxy.cut()
            for _ in range(3):
                with pytest.raises(OperationalError), database.transaction() as session:
                    session.execute(text("SELECT 1"))
            assert database.availability.down
            proxy.restore()
            with database.transaction() as session:
                assert session.execute(text("SELECT 1")).scalar() == 1
            assert not database.availability.down
        finally:
            database.dispose()
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2, messages
    assert messages[0].startswith("database unavailable: ") and messages[1].startswith("database reachable again")


def test_a_statement_error_says_nothing_about_availability(tmp_path: Path, caplog) -> None:
    database = Database(f"sqlite:///{tmp_path}/fine.db")
    caplog.set_level(logging.INFO, logger="storage.availability")
    try:
        with pytest.raises(OperationalError), database.transaction() as session:
            session.execute(text("SELECT * FROM no_such_table"))
    finally:
        database.dispose()
    assert not database.availability.down and caplog.records == []


@pytest.mark.postgres
def test_a_database_host_gone_silent_is_unavailable_within_the_connect_timeout(monkeypatch) -> None:
    monkeypatch.setattr(db, "CONNECT_TIMEOUT_SECONDS", 1)
    upstream = make_url(PG_URL)
    with TcpProxy((upstream.host or "127.0.0.1", upstream.port or 5432)) as proxy:
        proxy.hold()
        database = Database(upstream.set(port=proxy.port).render_as_string(hide_password=False))
        started = time.monotonic()
        try:
            with pytest.raises(OperationalError) as raised, database.transaction() as session:
                session.execute(text("SELECT 1"))
        finally:
            database.dispose()
    assert time.monotonic() - started < 5  # not the operating system's minutes
    assert is_unavailable(raised.value) and "timeout" in str(raised.value)

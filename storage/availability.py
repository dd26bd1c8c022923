"""Whether the database can be reached, told to the operator once per outage.

When the database goes away (a restart, a failover, a full disk), every
channel, the sweeper and each worker thread fail on their next transaction,
many times a second.  A traceback for each would bury the one fact that
matters.  Instead the first failure logs one warning with the cause, a
reminder follows every few minutes while the outage lasts, and the first
commit afterwards logs the recovery and how long it took.  Callers use
`is_unavailable(exc)` to keep their own logging to one line for these
errors and to not hold them against the work (a mail is not parked because
the database was down while it was processed).

Only errors about reaching the database count, never errors about a
statement: a mail whose subject is too long for an index fails the same way
every time, and must still end up parked.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

log = logging.getLogger(__name__)

REMIND_EVERY_SECONDS = 300.0
# PostgreSQL SQLSTATE classes about the connection: 08 connection exception,
# 57P operator intervention (shutdown, crash, cannot connect now).
_PG_CONNECTION_STATES = ("08", "57P")
# SQLite result codes that say the file cannot be used right now, not that the statement is wrong.
_SQLITE_UNAVAILABLE = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR,
                                 sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN})


def is_unavailable(exc: BaseException) -> bool:
    """Whether `exc`, or an exception it was raised from, says the database cannot be reached or used now."""
    return _unavailability(exc) is not None


def _unavailability(exc: BaseException) -> DBAPIError | None:
    """The database error in `exc`'s chain that says so, if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _unreachable(current):
            assert isinstance(current, DBAPIError)
            return current
        current = current.__cause__ or current.__context__
    return None


def _unreachable(exc: BaseException) -> bool:
    if not isinstance(exc, (OperationalError, InterfaceError)):
        return False
    assert isinstance(exc, DBAPIError)
    if exc.connection_invalidated:
        return True
    original = exc.orig
    if isinstance(original, sqlite3.Error):
        return getattr(original, "sqlite_errorcode", None) in _SQLITE_UNAVAILABLE
    state = getattr(original, "sqlstate", None)
    return state is None or state.startswith(_PG_CONNECTION_STATES)  # no SQLSTATE: the connection itself failed


class Availability:
    """The database's state as this process last saw it; logs only the changes.

    `tell`, when given, is told each change instead of the log: the reason
    when the database went away, None when it came back.  A child process
    tells its parent, whose log then says it once for the whole installation.
    """

    def __init__(self, remind_every: float = REMIND_EVERY_SECONDS,
                 tell: Callable[[str | None], None] | None = None) -> None:
        self.remind_every = remind_every
        self.tell = tell
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._reminded_at = 0.0

    @property
    def down(self) -> bool:
        return self._down_since is not None

    def failed(self, exc: BaseException) -> None:
        """A transaction could not reach the database."""
        now = time.monotonic()
        with self._lock:
            if self._down_since is None:
                self._down_since = self._reminded_at = now
                self._report(_reason(exc), "database unavailable: %s; work is kept and retried until it is back",
                             _reason(exc))
            elif now - self._reminded_at >= self.remind_every:
                self._reminded_at = now
                self._report(_reason(exc), "database still unavailable after %.0f s: %s", now - self._down_since,
                             _reason(exc))

    def succeeded(self) -> None:
        """A transaction committed: the database is back, if it was away."""
        if self._down_since is None:  # the usual case, decided without the lock
            return
        with self._lock:
            if self._down_since is not None:
                self._report(None, "database reachable again after %.0f s", time.monotonic() - self._down_since)
                self._down_since = None

    def _report(self, reason: str | None, line: str, *args: object) -> None:
        """Log the change, or tell it (the listener's own Availability decides what to log)."""
        if self.tell is not None:
            self.tell(reason)
        else:
            log.warning(line, *args)


class Unavailable(Exception):
    """An outage another process saw, told with its reason (`Availability.tell`)."""


def _reason(exc: BaseException) -> str:
    """The first line of the driver's message, without SQLAlchemy's statement and link."""
    found = _unavailability(exc)
    original = found.orig if found is not None and found.orig is not None else exc
    lines = [line.strip() for line in str(original).splitlines() if line.strip()]
    return lines[0] if lines else type(original).__name__

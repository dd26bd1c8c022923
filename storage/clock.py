"""When a fact happened: now, or the time of the historical mail being imported.

Tickets, messages, links and events take their times from `event_time()`.
While the pipeline applies a mail that is history (a firm's old mailbox,
imported on its first sync), it runs under `as_of(the mail's Date)`, so every
row that mail creates carries the mail's own time and reports, stage times
and partner figures of the history come out as they happened.  The
machinery's own rows (inbox, outbox, leases, cursors) keep the real clock.
A context variable, so each worker thread has its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone

_AS_OF: ContextVar[datetime | None] = ContextVar("relaydesk_as_of", default=None)


def event_time() -> datetime:
    """The time to record on a ticket, message, link or event created now."""
    moment = _AS_OF.get()
    return moment if moment is not None else datetime.now(timezone.utc)


@contextmanager
def as_of(moment: datetime | None) -> Iterator[None]:
    """Record facts at `moment` inside the block (None: the real clock)."""
    token = _AS_OF.set(moment)
    try:
        yield
    finally:
        _AS_OF.reset(token)

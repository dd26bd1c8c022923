"""Is this mail history?  The channel says so on the envelope; here it becomes a time and a policy.

A channel that imports a firm's existing mail (IMAP's first sync, `relaydesk
ingest --history`) marks each past mail with an envelope block:

    "history": {"received_at": ISO time the server got it (optional),
                "resolve_older_than_days": N or null,
                "send": ["handoff", …]}      # kinds that still leave (default: none)

The runner applies such a mail under `applying(session, history)`: every
ticket, message, link and event it creates carries the mail's own time
(`storage.clock.as_of`), and the outbox writer withholds what it would send
(`gateway.desk.withheld`).  No step needs an `if` of its own for that.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy.orm import Session

from gateway.desk.withheld import withholding
from parsers import ParsedMessage
from storage.clock import as_of

IMPORT_ACTOR = "import"  # who resolved a ticket whose history ended long ago


@dataclass(frozen=True)
class History:
    """How to apply one past mail: at what time, and what may still leave."""

    at: datetime
    resolve_before: datetime | None = None
    send: tuple[str, ...] = ()


def history_of(envelope: Mapping[str, Any] | None, parsed: ParsedMessage, now: datetime | None = None) -> History | None:
    """The history block of an inbox item's envelope read against the mail; None for live mail."""
    block = (envelope or {}).get("history")
    if not block:
        return None
    now = now or datetime.now(timezone.utc)
    days = block.get("resolve_older_than_days")
    return History(
        at=mail_time(parsed, _parse_time(block.get("received_at")), now),
        resolve_before=now - timedelta(days=days) if days is not None else None,
        send=tuple(block.get("send") or ()),
    )


def mail_time(parsed: ParsedMessage, received_at: datetime | None, now: datetime) -> datetime:
    """The mail's own Date; the server's arrival time when the Date is missing or in the future."""
    fallback = min(received_at, now) if received_at is not None else now
    date = parsed.date
    if date is None or date > now:
        return fallback
    return date.astimezone(timezone.utc)


@contextmanager
def applying(session: Session, history: History | None) -> Iterator[None]:
    """Apply live mail as it is; history at its own time with its outbound withheld."""
    if history is None:
        yield
        return
    with as_of(history.at), withholding(session, history.send):
        yield


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)

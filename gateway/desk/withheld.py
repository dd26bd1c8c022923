"""History leaves nothing: while the pipeline applies an imported past mail, what would leave is withheld.

The places that decide are the outbox writers (mail, chat messages, webhook
deliveries).  Every flow and step keeps queuing as it always does (an
acknowledgement, a relay, a handoff notice), so tickets, links and
Message-IDs come out as for live mail; but under `withholding(session)` a
writer records the row as `withheld` (nothing rendered, nothing delivered)
instead of `pending`.  The row says what relaydesk would have sent, and
`relaydesk show` lists it as such.  Kinds named in `send` still go out (a
configured handoff notice to a partner).  Deadlines, whose reminders would
leave later, are not started for a handoff found in history (`in_history`).
Kept in `desk` so that the webhook events of `desk` can ask it too.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

WITHHELD = "withheld"
_KEY = "relaydesk.withhold_outbound_except"


@contextmanager
def withholding(session: Session, send: Iterable[str] = ()) -> Iterator[None]:
    """Withhold outbound mail and chat messages queued in `session` inside the block, except kinds in `send`."""
    before = session.info.get(_KEY)
    session.info[_KEY] = frozenset(send)
    try:
        yield
    finally:
        if before is None:
            session.info.pop(_KEY, None)
        else:
            session.info[_KEY] = before


def is_withheld(session: Session, kind: str) -> bool:
    """Is outbound of `kind` withheld in this session just now?"""
    allowed = session.info.get(_KEY)
    return allowed is not None and kind not in allowed


def in_history(session: Session) -> bool:
    """Is the session applying history (whatever kinds may still leave)?"""
    return session.info.get(_KEY) is not None

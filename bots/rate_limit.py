"""How many updates one Telegram chat may send in an hour before the desk stops passing them on.

SMTP answers a runaway sender 450 and its MTA tries again later; Telegram
has no such thing (an update not taken holds up every later one).  So a
chat over the limit is still heard — each message is kept on its ticket —
but nobody is mailed or posted about it and no new ticket is opened, and
the customer is told once an hour to slow down.  Counted from the inbox,
by the time each update was stored, so processing the same update again
decides the same way.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import InboxItem, OutboxItem, utcnow

WINDOW = timedelta(hours=1)
SLOW_DOWN_KIND = "chat_slow_down"


def over_limit(session: Session, item: InboxItem, per_hour: int) -> bool:
    """At least `per_hour` updates of the item's chat were stored within the hour before it."""
    if item.sequence_key is None:
        return False
    earlier = session.scalar(
        select(func.count()).select_from(InboxItem).where(
            InboxItem.sequence_key == item.sequence_key, InboxItem.id < item.id,
            InboxItem.received_at > item.received_at - WINDOW,
        )
    )
    return (earlier or 0) >= per_hour


def told_to_slow_down(session: Session, chat_id: int) -> bool:
    """The chat got the slow-down notice within the last hour."""
    return session.scalar(
        select(OutboxItem.id).where(OutboxItem.recipient == str(chat_id), OutboxItem.kind == SLOW_DOWN_KIND,
                                    OutboxItem.created_at > utcnow() - WINDOW).limit(1)
    ) is not None

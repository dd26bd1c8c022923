"""The operator's view of the inbox: what is waiting or parked, and replaying it.

A parked item is mail that could not be applied (a bug, a missing account,
a mail that crashed the worker); it is kept with its reason until an
operator fixes the cause and replays it — nothing is thrown away.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from gateway.app.processing import process_inbox_item
from gateway.core.runtime import Runtime
from gateway.desk.views import iso
from gateway.pipeline.runner import requeue_parked
from storage.models import InboxItem


@dataclass(frozen=True)
class ReplayResult:
    inbox_id: int
    status: str  # done | parked | pending | not-parked
    error: str | None
    outbox_ids: list[int]


def inbox_rows(runtime: Runtime, status: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Newest first: {"id", "channel", "status", "attempts", "error", "problems", "received_at", "recipients"}."""
    query = select(InboxItem).order_by(InboxItem.id.desc()).limit(limit)
    if status:
        query = query.where(InboxItem.status == status)
    with runtime.db.transaction() as session:
        return [
            {
                "id": item.id,
                "channel": item.channel,
                "status": item.status,
                "attempts": item.attempts,
                "error": item.error,
                "problems": list(item.problems or []),
                "received_at": iso(item.received_at),
                "recipients": list((item.envelope or {}).get("rcpt_tos") or []),
            }
            for item in session.scalars(query)
        ]


def parked_ids(runtime: Runtime) -> list[int]:
    with runtime.db.transaction() as session:
        return list(session.scalars(select(InboxItem.id).where(InboxItem.status == "parked").order_by(InboxItem.id)))


def replay(runtime: Runtime, inbox_id: int) -> ReplayResult:
    """Put a parked item back in line and process it now; its outbound mail waits for the server."""
    if not requeue_parked(runtime, inbox_id):
        return ReplayResult(inbox_id, "not-parked", None, [])
    outbox_ids = process_inbox_item(runtime, inbox_id)
    with runtime.db.transaction() as session:
        item = session.get(InboxItem, inbox_id)
        return ReplayResult(inbox_id, item.status, item.error, outbox_ids)

"""The events feed: every fact recorded on the account's tickets, in order, read on from a cursor.

A system that mirrors relaydesk keeps the last `next_cursor` and asks again;
event ids only grow, so nothing is skipped or read twice.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from gateway.web.api.auth import Reader, RuntimeDep
from gateway.web.api.tickets import CURSOR
from gateway.web.api.schemas import EventPage, FeedEvent
from parsers.message import iso_utc
from storage.models import Event, Ticket

router = APIRouter(tags=["events"])


@router.get("/events", response_model=EventPage, summary="Events of the account's tickets after a cursor, oldest first")
def events(
    runtime: RuntimeDep, who: Reader,
    cursor: Annotated[str | None, Query(pattern=CURSOR, description="`next_cursor` of the previous read; none: from the start.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> EventPage:
    after = int(cursor or 0)
    query = (select(Event, Ticket.ref).join(Ticket, Event.ticket_id == Ticket.id)
             .where(Ticket.account_id == who.account_id, Event.id > after).order_by(Event.id).limit(limit))
    with runtime.db.reading() as session:
        items = [FeedEvent(id=event.id, at=iso_utc(event.at), type=event.type, ticket=ref, detail=event.detail or {})
                 for event, ref in session.execute(query)]
    return EventPage(items=items, next_cursor=str(items[-1].id if items else after))


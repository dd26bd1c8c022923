"""Reading tickets: the account's list (filters, cursor paging), one ticket as `show --json`, its chain."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from gateway.desk.timings import chain_timings
from gateway.desk.views import summary_json, ticket_detail
from gateway.web.api.auth import Reader, RuntimeDep, own_ticket
from gateway.web.api.schemas import ChainOut, Status, TicketDetail, TicketPage, TicketSummary
from storage.models import Link, Ticket

router = APIRouter(tags=["tickets"])
CURSOR = r"^[0-9]{1,18}$"  # the last id read: ids only grow, so paging never skips or repeats
Ref = Annotated[str, Path(pattern=r"^[A-Za-z][A-Za-z0-9]{0,9}-[0-9]{1,9}$", description="A ticket ref, e.g. VND-1042.")]


@router.get("/tickets", response_model=TicketPage, summary="The account's tickets, oldest first")
def list_tickets(
    runtime: RuntimeDep, who: Reader,
    status: Annotated[Status | None, Query(description="Only tickets in this status.")] = None,
    updated_since: Annotated[datetime | None, Query(description="Only tickets changed at or after this time.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(pattern=CURSOR, description="`next_cursor` of the previous page.")] = None,
) -> TicketPage:
    query = select(Ticket).where(Ticket.account_id == who.account_id).order_by(Ticket.id).limit(limit + 1)
    if cursor is not None:
        query = query.where(Ticket.id > int(cursor))
    if status is not None:
        query = query.where(Ticket.status == status)
    if updated_since is not None:
        query = query.where(Ticket.updated_at >= updated_since)
    with runtime.db.reading() as session:
        rows = list(session.scalars(query))
        page = rows[:limit]
        parents = _parent_refs(session, [t.id for t in page])
        items = [TicketSummary.model_validate(summary_json(t, parents.get(t.id))) for t in page]
    more = len(rows) > limit
    return TicketPage(items=items, next_cursor=str(page[-1].id) if more else None)


@router.get("/tickets/{ref}", response_model=TicketDetail, summary="One ticket, in the shape of `show --json`")
def get_ticket(ref: Ref, runtime: RuntimeDep, who: Reader) -> TicketDetail:
    with runtime.db.reading() as session:
        ticket = own_ticket(session, who, ref)
        return TicketDetail.model_validate(ticket_detail(session, ticket.ref))


@router.get("/tickets/{ref}/chain", response_model=ChainOut, summary="The ticket's whole chain with timings")
def get_chain(ref: Ref, runtime: RuntimeDep, who: Reader) -> ChainOut:
    with runtime.db.reading() as session:
        ticket = own_ticket(session, who, ref)
        return ChainOut.model_validate(chain_timings(session, ticket.ref).to_json())


def _parent_refs(session: Session, ids: list[int]) -> dict[int, str]:
    """Child id → parent ref, for one page only (the CLI's list reads all links at once)."""
    if not ids:
        return {}
    parent = aliased(Ticket)
    rows = session.execute(
        select(Link.child_ticket_id, parent.ref).join(parent, Link.parent_ticket_id == parent.id)
        .where(Link.child_ticket_id.in_(ids))
    )
    return {child_id: ref for child_id, ref in rows}


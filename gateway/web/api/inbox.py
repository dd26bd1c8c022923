"""Inbound items for operators: what the account received, what waits, what was parked and why.

An item belongs to the account when it was applied to one of its tickets,
or, not applied yet, when it was addressed to one of its addresses (or the
channel named the account).  Other accounts' mail is never listed.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.core.tokens import split_plus
from gateway.web.api.auth import Reader, RuntimeDep
from gateway.web.api.schemas import InboxItemOut
from parsers.message import iso_utc
from storage.models import AccountAddress, InboxItem, Message, Ticket

router = APIRouter(tags=["inbox"])


@router.get("/inbox", response_model=list[InboxItemOut], summary="The account's inbound items, newest first")
def inbox(
    runtime: RuntimeDep, who: Reader,
    status: Annotated[Literal["pending", "done", "parked"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[InboxItemOut]:
    with runtime.db.reading() as session:
        applied = _applied(session, who.account_id, status, limit)
        waiting = [] if status == "done" else _addressed(session, who.account_id, who.account_slug, status, limit)
        items = sorted({item.id: item for item in [*applied, *waiting]}.values(), key=lambda i: i.id, reverse=True)
        refs = _tickets_of(session, who.account_id, [item.id for item in items[:limit]])
        return [_out(item, refs.get(item.id, [])) for item in items[:limit]]


def _applied(session: Session, account_id: int, status: str | None, limit: int) -> list[InboxItem]:
    ours = select(Message.inbox_item_id).join(Ticket, Message.ticket_id == Ticket.id).where(
        Ticket.account_id == account_id, Message.inbox_item_id.is_not(None))
    query = select(InboxItem).where(InboxItem.id.in_(ours)).order_by(InboxItem.id.desc()).limit(limit)
    return list(session.scalars(query.where(InboxItem.status == status) if status else query))


def _addressed(session: Session, account_id: int, slug: str, status: str | None, limit: int) -> list[InboxItem]:
    """Items not applied yet (pending or parked) whose envelope names the account or one of its addresses."""
    ours = set(session.scalars(select(AccountAddress.address).where(AccountAddress.account_id == account_id)))
    statuses = [status] if status else ["pending", "parked"]
    query = select(InboxItem).where(InboxItem.status.in_(statuses)).order_by(InboxItem.id.desc()).limit(10 * limit)
    return [item for item in session.scalars(query) if _addressed_to(item, slug, ours)][:limit]


def _addressed_to(item: InboxItem, slug: str, ours: set[str]) -> bool:
    envelope = item.envelope or {}
    if envelope.get("account"):
        return envelope["account"] == slug
    for address in envelope.get("rcpt_tos") or []:
        base, _, domain = split_plus(str(address))
        if f"{base}@{domain}" in ours:
            return True
    return False


def _tickets_of(session: Session, account_id: int, item_ids: list[int]) -> dict[int, list[str]]:
    rows = session.execute(
        select(Message.inbox_item_id, Ticket.ref).join(Ticket, Message.ticket_id == Ticket.id)
        .where(Message.inbox_item_id.in_(item_ids), Ticket.account_id == account_id).distinct()
    )
    found: dict[int, list[str]] = {}
    for item_id, ref in rows:
        found.setdefault(item_id, []).append(ref)
    return found


def _out(item: InboxItem, refs: list[str]) -> InboxItemOut:
    return InboxItemOut(
        id=item.id, channel=item.channel, status=item.status, attempts=item.attempts, error=item.error,
        problems=[str(p) for p in item.problems or []], received_at=iso_utc(item.received_at),
        recipients=[str(r) for r in (item.envelope or {}).get("rcpt_tos") or []], tickets=sorted(refs),
    )

"""The customer's status page link of a ticket: issued with the first mail that carries it, revocable.

The token names a row and carries its random nonce, signed with the
security secret: it cannot be guessed or made for another ticket, and
revoking the row ends every copy of the link already mailed out.  The next
mail to the customer then carries a new one.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gateway.desk.tickets import add_event
from gateway.core.tokens import make_status_token, read_status_token
from storage.models import Ticket, utcnow
from storage.web_models import StatusLink


def current_status_token(session: Session, secret: str, ticket: Ticket) -> str | None:
    """The ticket's live status token, None when none was issued or all were revoked."""
    link = session.scalar(
        select(StatusLink).where(StatusLink.ticket_id == ticket.id, StatusLink.revoked_at.is_(None))
        .order_by(StatusLink.id.desc()).limit(1)
    )
    return make_status_token(secret, link.id, link.nonce) if link is not None else None


def status_token(session: Session, secret: str, ticket: Ticket) -> str:
    """The ticket's live status token, issued now if it has none."""
    token = current_status_token(session, secret, ticket)
    if token is not None:
        return token
    link = StatusLink(ticket_id=ticket.id, nonce=secrets.token_hex(12), created_at=utcnow())
    session.add(link)
    session.flush()
    return make_status_token(secret, link.id, link.nonce)


def ticket_for_status_token(session: Session, secret: str, token: str) -> Ticket | None:
    """The ticket a valid, unrevoked token shows; None for anything else."""
    read = read_status_token(secret, token)
    if read is None:
        return None
    link = session.get(StatusLink, read[0])
    if link is None or link.revoked_at is not None or link.nonce != read[1]:
        return None
    return session.get(Ticket, link.ticket_id)


def revoke_status_links(session: Session, ticket: Ticket, by: str | None) -> int:
    """End every status link of the ticket; returns how many were live."""
    revoked = session.execute(
        update(StatusLink).where(StatusLink.ticket_id == ticket.id, StatusLink.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    ).rowcount
    if revoked:
        add_event(session, ticket, "status_link_revoked", by=by)
    return revoked

"""The customer's status page (`/s/<token>`): one ticket, in plain words, without signing in.

It shows the ticket's ref, subject and status, the progress of its chain
("with our service partner since Tue 10:04" — the partner named only when
the account attributes partner replies), and the public correspondence.
Nothing internal, no other ticket, no partner's own refs.  A token that is
forged, revoked or for nothing answers 404; requests are rate-limited per
client.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.core.accounts import settings_for
from gateway.desk.status_links import ticket_for_status_token
from gateway.desk.links import ACCEPTED, HANDED_OFF, RATED, RESOLVED
from gateway.web.render import page, when
from gateway.web.requests import client_key, reading, runtime_of
from gateway.web.ticket_view import not_found
from storage import repositories
from storage.models import Message, Ticket

router = APIRouter()

STATUS_WORDS = {"new": "Received", "open": "In progress", "pending": "On hold", "resolved": "Resolved",
                "closed": "Closed", "cancelled": "Cancelled"}


@dataclass(frozen=True)
class Step:
    text: str
    state: str  # done | now


@dataclass(frozen=True)
class Said:
    who: str
    text: str
    at: datetime
    kind: str  # customer | public (the account) | partner (an update relayed from the chain)


def _progress(session: Session, ticket: Ticket, partner_names: bool) -> list[Step]:
    steps = [Step(f"Request received {when(ticket.created_at)}", "done")]
    for link in repositories.child_links(session, ticket.id):
        partner = f"our service partner {link.child.account.name}" if partner_names else "our service partner"
        if link.state in (HANDED_OFF, ACCEPTED):
            steps.append(Step(f"With {partner} since {when(link.created_at)}", "now"))
        elif link.state in (RESOLVED, RATED):
            steps.append(Step(f"Work done by {partner} {when(link.resolved_at)}", "done"))
    if ticket.status in ("resolved", "closed", "cancelled"):
        steps.append(Step(f"{STATUS_WORDS[ticket.status]} {when(ticket.updated_at)}", "done"))
    elif not any(step.state == "now" for step in steps):
        steps.append(Step(f"{STATUS_WORDS[ticket.status]} with {ticket.account.name}", "now"))
    return steps


def _correspondence(session: Session, ticket: Ticket, requester: str | None, partner_names: bool,
                    relayed: bool) -> list[Said]:
    """Public messages, and the partner's updates when they were sent on to the customer."""
    visible = ("public", "partner") if relayed else ("public",)
    messages = session.scalars(select(Message).where(
        Message.ticket_id == ticket.id, Message.visibility.in_(visible), Message.unverified.is_(False))
        .order_by(Message.created_at, Message.id))
    said = []
    for message in messages:
        if requester and (message.from_email or "").lower() == requester:
            who, kind = "You", "customer"
        elif message.visibility == "partner":
            who = f"{ticket.account.name} via {message.from_name or 'our partner'}" if partner_names else ticket.account.name
            kind = "partner"
        else:
            who, kind = ticket.account.name, "public"
        said.append(Said(who, message.text, message.created_at, kind))
    return said


@router.get("/s/{token}", response_class=HTMLResponse)
def status(request: Request, token: str) -> Response:
    if not request.app.state.status_page_limit.allow(client_key(request)):
        raise HTTPException(status_code=429, detail="Too many requests; try again in a minute.")
    config = runtime_of(request).config
    with reading(request) as session:
        ticket = ticket_for_status_token(session, config.security.secret, token)
        if ticket is None:
            raise not_found()
        settings = settings_for(config, ticket.account)
        requester = repositories.requester_of(session, ticket.id)
        response = page(
            request, "status.html", ticket=ticket, status_words=STATUS_WORDS[ticket.status],
            progress=_progress(session, ticket, settings.attribute_partner),
            said=_correspondence(session, ticket, requester.email if requester else None, settings.attribute_partner,
                                 settings.relay_partner_replies == "requester"),
        )
    response.headers.update({"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
                             "X-Robots-Tag": "noindex, nofollow"})
    return response

"""The Ticket screen (`/t/<REF>`): the conversation, the chain, the events, and the agent's actions.

Each action checks and applies through gateway/flows/agent_actions.py and
agent_messages.py, the code the mail commands use, inside one transaction
with the outbox rows it queues; the rows are handed to the delivery actor
after the commit.  A refused action (a status the ticket cannot take, a
partner that is not one) comes back as the line the mail command would
have answered with.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from gateway.desk import links
from gateway.desk.status_links import revoke_status_links
from gateway.desk.webhook_events import take_queued
from gateway.flows import agent_actions
from gateway.flows.agent_messages import post_agent_message, typed_handoff
from gateway.flows.ratings import RATEABLE
from gateway.flows.rejections import BadRating, NoHandoff, Rejection
from gateway.web.auth import Viewer, agent_account, viewer_of
from gateway.web.csrf import checked_form
from gateway.web.render import page
from gateway.web.requests import deliver, reading, runtime_of, see_other, transaction
from gateway.web.ticket_view import own_attachment, own_message, own_ticket, ticket_screen
from parsers.message import Address
from storage.models import OutboxItem, Ticket

router = APIRouter()
WEB_CHANNEL = "web"

Action = Callable[[Session, Viewer, Ticket, FormData, Request], tuple[str, list[OutboxItem]]]


@router.get("/t/{ref}", response_class=HTMLResponse)
def ticket_page(request: Request, ref: str) -> Response:
    with reading(request) as session:
        viewer = viewer_of(request, session)
        data = ticket_screen(session, runtime_of(request).config, viewer, ref)
        return page(request, "ticket.html", viewer=viewer, screen_data=data, screen="chains")


@router.get("/t/{ref}/messages/{message_id}", response_class=HTMLResponse)
def message_page(request: Request, ref: str, message_id: int) -> Response:
    with reading(request) as session:
        viewer = viewer_of(request, session)
        ticket = own_ticket(session, viewer, ref)
        message = own_message(session, ticket, message_id)
        return page(request, "message.html", viewer=viewer, ticket=ticket, message=message, screen="chains")


@router.get("/t/{ref}/files/{attachment_id}")
def attachment(request: Request, ref: str, attachment_id: int) -> Response:
    with reading(request) as session:
        viewer = viewer_of(request, session)
        found = own_attachment(session, own_ticket(session, viewer, ref), attachment_id)
        name, content_type, sha256 = found.filename, found.content_type, found.sha256
    body = runtime_of(request).blobs.get(sha256)
    return Response(body, media_type=content_type or "application/octet-stream",
                    headers={"Content-Disposition": content_disposition(name), "X-Content-Type-Options": "nosniff"})


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the real one in RFC 5987 form: no quotes or line breaks pass."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename) or "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename or 'file', safe='')}"


def _author(session: Session, viewer: Viewer) -> tuple[Address, int | None]:
    found = agent_account(session, viewer.email)
    return Address(viewer.name, viewer.email), (found[0].id if found else None)


def _reply(session: Session, viewer: Viewer, ticket: Ticket, form: FormData,
           request: Request) -> tuple[str, list[OutboxItem]]:
    text = str(form.get("text") or "").strip()
    if not text:
        return "", []
    visibility = "internal" if form.get("visibility") == "internal" else "public"
    author, agent_id = _author(session, viewer)
    _, queued = post_agent_message(session, runtime_of(request), ticket, author, text, visibility=visibility,
                                   channel=WEB_CHANNEL, agent_id=agent_id)
    return ("Internal note added." if visibility == "internal" else "Reply sent."), queued


def _status(session: Session, viewer: Viewer, ticket: Ticket, form: FormData,
            request: Request) -> tuple[str, list[OutboxItem]]:
    target = agent_actions.check_status(ticket, str(form.get("status") or ""))
    queued = agent_actions.set_status(session, runtime_of(request), ticket, target, viewer.email, hops=0)
    return f"{ticket.ref} is {ticket.status}.", queued


def _handoff(session: Session, viewer: Viewer, ticket: Ticket, form: FormData,
             request: Request) -> tuple[str, list[OutboxItem]]:
    author, _ = _author(session, viewer)
    result = typed_handoff(session, runtime_of(request), ticket, author, str(form.get("partner") or ""),
                           str(form.get("note") or ""), WEB_CHANNEL)
    return f"Handed off: {result.link.child.ref} at {result.link.child.account.name}.", result.outbox


def _recall(session: Session, viewer: Viewer, ticket: Ticket, form: FormData,
            request: Request) -> tuple[str, list[OutboxItem]]:
    recalled = agent_actions.links_to_recall(session, ticket, [str(form.get("child") or "")])
    queued = agent_actions.recall(session, runtime_of(request), recalled, viewer.email, hops=0)
    return f"Recalled {', '.join(link.child.ref for link in recalled)}.", queued


def _rate(session: Session, viewer: Viewer, ticket: Ticket, form: FormData,
          request: Request) -> tuple[str, list[OutboxItem]]:
    link = agent_actions.link_of_child(session, ticket, str(form.get("child") or ""))
    if link.state not in RATEABLE:
        raise NoHandoff(f"{link.child.ref} is not resolved yet")
    stars = str(form.get("rating") or "")
    if not stars.isdigit() or not 1 <= int(stars) <= 5:
        raise BadRating(stars or "(nothing)")
    links.rate(session, link, int(stars), str(form.get("comment") or "").strip() or None, actor=viewer.email)
    return f"Rated {link.child.account.name} {stars} of 5.", []


def _assign(session: Session, viewer: Viewer, ticket: Ticket, form: FormData,
            request: Request) -> tuple[str, list[OutboxItem]]:
    agent = agent_actions.agent_named(runtime_of(request).config, ticket, str(form.get("agent") or ""))
    agent_actions.assign(session, ticket, agent, viewer.email)
    return f"Assigned to {agent.name}.", []


def _approve(session: Session, viewer: Viewer, ticket: Ticket, form: FormData,
             request: Request) -> tuple[str, list[OutboxItem]]:
    message = agent_actions.message_to_approve(session, ticket)
    queued = agent_actions.approve(session, runtime_of(request), message, viewer.email, hops=0)
    return "Message approved and passed on.", queued


def _revoke_link(session: Session, viewer: Viewer, ticket: Ticket, form: FormData,
                 request: Request) -> tuple[str, list[OutboxItem]]:
    revoke_status_links(session, ticket, by=viewer.email)
    return "The customer's status link no longer works; the next mail carries a new one.", []


ACTIONS: dict[str, Action] = {
    "reply": _reply, "status": _status, "handoff": _handoff, "recall": _recall, "rate": _rate,
    "assign": _assign, "approve": _approve, "status-link/revoke": _revoke_link,
}


def _register(path: str, action: Action) -> None:
    @router.post(f"/t/{{ref}}/{path}", name=f"ticket_{path}")
    def run(request: Request, ref: str, form: FormData = Depends(checked_form)) -> Response:
        try:
            with transaction(request) as session:
                viewer = viewer_of(request, session)
                ticket = own_ticket(session, viewer, ref)
                said, queued = action(session, viewer, ticket, form, request)
                webhooks = take_queued(session)  # the account's webhooks hear of the change at once, too
        except Rejection as refused:
            return see_other(f"/t/{ref.upper()}", error=refused.reply_text().splitlines()[0])
        deliver(queued, webhooks)
        return see_other(f"/t/{ref.upper()}", done=said)


for _path, _action in ACTIONS.items():
    _register(_path, _action)

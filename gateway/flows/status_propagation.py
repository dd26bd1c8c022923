"""What a ticket's status change means for the links around it.

Up: a child resolved (or closed) by its partner resolves the link and asks
the parent's agents for a rating; a child cancelled by its partner declines
the link.  Down: a parent closed or cancelled closes its open children and
tells each partner (account setting `close_children_on_close`) — a link
still active then ends as `recalled`, since the parent side ended the work,
so no report counts it as held by the partner forever; a recall cancels the
child.  Each hop applies its own account's settings.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from gateway.core.accounts import settings_for
from gateway.core.runtime import Runtime
from gateway.desk import links
from gateway.desk.partner_side import executors_of
from gateway.desk.tickets import FINISHED, add_event, change_status
from gateway.flows.mirroring import agent_participants
from gateway.flows.ratings import request_rating
from gateway.outbound import chain_notices, outbox
from storage import repositories
from storage.models import Link, OutboxItem, Participant, Ticket

_DONE = ("resolved", "closed")


def after_status_change(session: Session, runtime: Runtime, ticket: Ticket, by: str | None,
                        hops: int, last_word: str = "") -> list[OutboxItem]:
    """Propagate `ticket`'s new status to its parent link and its children.

    `last_word` is the public text that came with the change; it rides along
    in the rating request.
    """
    queued = _upward(session, runtime, ticket, by, hops, last_word)
    if ticket.status in FINISHED:
        queued += close_children(session, runtime, ticket, hops)
    return queued


def recall(session: Session, runtime: Runtime, link: Link, by: str | None, hops: int) -> list[OutboxItem]:
    """Take a handed-off request back: the child is cancelled and its partner told."""
    links.transition(session, link, links.RECALLED, actor=by)
    change_status(session, link.child, "cancelled", by=by)
    subject, text = chain_notices.recalled_notice(link, by or link.parent.account.name)
    queued = _tell(session, runtime, link.child, executors_of(link.child), subject, text, hops)
    return queued + close_children(session, runtime, link.child, hops)


def close_children(session: Session, runtime: Runtime, parent: Ticket, hops: int) -> list[OutboxItem]:
    """Close the unfinished children of a finished ticket, all the way down, if its account wants that."""
    if not settings_for(runtime.config, parent.account).close_children_on_close:
        return []
    queued: list[OutboxItem] = []
    for link in repositories.child_links(session, parent.id):
        child = link.child
        if child.status in FINISHED:
            continue
        if link.state in links.ACTIVE_STATES:  # the parent side ended the work: the partner holds it no longer
            links.transition(session, link, links.RECALLED, actor=None,
                             detail={"reason": f"{parent.ref} {parent.status}"})
        change_status(session, child, "closed", by=f"{parent.ref} {parent.status}")
        add_event(session, child, "closed_with_parent", link.id, parent=parent.ref)
        subject, text = chain_notices.parent_closed_notice(link)
        queued += _tell(session, runtime, child, executors_of(child), subject, text, hops)
        queued += close_children(session, runtime, child, hops)
    return queued


def _upward(session: Session, runtime: Runtime, ticket: Ticket, by: str | None, hops: int,
            last_word: str) -> list[OutboxItem]:
    link = repositories.parent_link(session, ticket.id)
    if link is None or link.state not in links.ACTIVE_STATES:
        return []
    if ticket.status in _DONE:
        links.transition(session, link, links.RESOLVED, actor=by, detail={"status": ticket.status})
        return request_rating(session, runtime, link, hops, last_word)
    if ticket.status == "cancelled":
        links.transition(session, link, links.DECLINED, actor=by)
        subject, text = chain_notices.declined_notice(link, by or ticket.account.name)
        return _tell(session, runtime, link.parent, agent_participants(session, runtime.config, link.parent),
                     subject, text, hops)
    return []


def _tell(session: Session, runtime: Runtime, ticket: Ticket, people: list[Participant], subject: str, text: str,
          hops: int) -> list[OutboxItem]:
    return [
        outbox.queue_mail(session, runtime, ticket, person, kind=outbox.NOTICE_KIND, subject=subject, text=text,
                          auto=True, inbound_hops=hops)
        for person in people if person.email
    ]

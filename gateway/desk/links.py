"""The link between a parent ticket and its child: states, transitions, events.

A link moves `handed_off → accepted → resolved → rated`, or ends early as
`recalled` (the parent side takes the work back) or `declined` (the partner
refuses it).  Every transition stamps the link and writes one event on each
of the two tickets, so each ticket's own history tells the whole story and
reports can time every hop from the link's columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from gateway.core import clock
from gateway.desk import deadlines
from gateway.desk.partner_terms import ACCEPT, RESOLVE
from gateway.desk.tickets import add_event
from storage import repositories
from storage.clock import event_time
from storage.models import Link, Ticket

HANDED_OFF = "handed_off"
ACCEPTED = "accepted"
RESOLVED = "resolved"
RATED = "rated"
RECALLED = "recalled"
DECLINED = "declined"

# Which states each transition may start from.  A rated link can be rated
# again (a dispatcher correcting a rating); nothing leaves recalled/declined.
_ALLOWED_FROM: dict[str, frozenset[str]] = {
    ACCEPTED: frozenset({HANDED_OFF}),
    RESOLVED: frozenset({HANDED_OFF, ACCEPTED}),
    RATED: frozenset({RESOLVED, RATED}),
    RECALLED: frozenset({HANDED_OFF, ACCEPTED}),
    DECLINED: frozenset({HANDED_OFF, ACCEPTED}),
}
ACTIVE_STATES = frozenset({HANDED_OFF, ACCEPTED})


class LinkTransitionError(ValueError):
    """The requested transition is not possible from the link's current state."""

    def __init__(self, link: Link, target: str) -> None:
        self.link = link
        self.target = target
        super().__init__(
            f"the link {link.parent.ref} → {link.child.ref} is {link.state.replace('_', ' ')}; "
            f"it cannot become {target.replace('_', ' ')}"
        )


@dataclass(frozen=True)
class Transition:
    """What happened to a link, for the caller to notify people about."""

    link: Link
    before: str | None
    after: str


def can_transition(link: Link, target: str) -> bool:
    return link.state in _ALLOWED_FROM.get(target, frozenset())


def create_link(session: Session, parent: Ticket, child: Ticket, *, actor: str | None,
                detail: dict[str, Any] | None = None) -> Transition:
    """Link `parent → child` in state handed_off and record the handoff on both tickets."""
    link = Link(parent_ticket_id=parent.id, child_ticket_id=child.id, state=HANDED_OFF, created_at=event_time())
    link.parent = parent
    link.child = child
    session.add(link)
    session.flush()
    _record(session, link, HANDED_OFF, actor, detail or {})
    return Transition(link=link, before=None, after=HANDED_OFF)


def transition(session: Session, link: Link, target: str, *, actor: str | None,
               detail: dict[str, Any] | None = None) -> Transition:
    """Move `link` to `target`, stamping the time and writing the events; raises if not allowed."""
    if not can_transition(link, target):
        raise LinkTransitionError(link, target)
    now = event_time()
    before = link.state
    link.state = target
    if target == ACCEPTED:
        link.accepted_at = now
    elif target == RESOLVED:
        link.resolved_at = now
    elif target == RATED:
        link.rated_at = now
    session.flush()
    _follow_deadlines(session, link, target)
    _record(session, link, target, actor, detail or {})
    return Transition(link=link, before=before, after=target)


def rate(session: Session, link: Link, rating: int, comment: str | None, *, actor: str | None) -> Transition:
    """Rate the partner's work on a resolved link (1–5, optional comment)."""
    if not 1 <= rating <= 5:
        raise ValueError(f"a rating is a whole number from 1 to 5, not {rating}")
    result = transition(session, link, RATED, actor=actor, detail={"rating": rating, "comment": comment})
    link.rating = rating
    link.rating_comment = comment or None
    return result


def active_child_links(session: Session, parent: Ticket) -> list[Link]:
    """Children still being worked on: handed off or accepted."""
    return [link for link in repositories.child_links(session, parent.id) if link.state in ACTIVE_STATES]


def _follow_deadlines(session: Session, link: Link, target: str) -> None:
    """An answer meets the accept deadline, a resolution both; a recall or decline stops them."""
    if target in (ACCEPTED, RESOLVED):
        deadlines.meet(session, link, (ACCEPT,) if target == ACCEPTED else (ACCEPT, RESOLVE), clock.now())
    elif target in (RECALLED, DECLINED):
        deadlines.stop(session, link, clock.now())


def _record(session: Session, link: Link, state: str, actor: str | None, detail: dict[str, Any]) -> None:
    common = {"parent": link.parent.ref, "child": link.child.ref, "actor": actor, **detail}
    for ticket in (link.parent, link.child):
        add_event(session, ticket, f"link_{state}", link.id, **common)

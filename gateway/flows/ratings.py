"""Rating a partner's work on a resolved link: the request, and `#rate 1-5 [comment]`.

Once a child is resolved, the parent account's agents get one rating
request on the parent ticket; answering it (or writing `#rate` on the
parent's thread) lands on the newest resolved link of that ticket.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from gateway.core.runtime import Runtime
from gateway.desk import links
from gateway.flows.mirroring import RATING_KIND, agent_participants
from gateway.flows.rejections import BadRating, NoHandoff
from gateway.outbound import chain_notices, outbox
from gateway.outbound.team_chat import ask_for_rating
from storage import repositories
from storage.models import Link, OutboxItem, Ticket

RATEABLE = (links.RESOLVED, links.RATED)


def parse_rating(args: Sequence[str]) -> tuple[int, str | None]:
    """`("4", "quick, but no call ahead")` → (4, "quick, but no call ahead"); BadRating otherwise."""
    raw = args[0] if args else ""
    if not raw.isdigit() or not 1 <= int(raw) <= 5:
        raise BadRating(raw or "(nothing)")
    comment = " ".join(args[1:]).strip() or None
    return int(raw), comment


def link_to_rate(session: Session, ticket: Ticket) -> Link:
    """The newest resolved (or already rated) link from `ticket`; NoHandoff when there is none."""
    rateable = [link for link in repositories.child_links(session, ticket.id) if link.state in RATEABLE]
    if not rateable:
        raise NoHandoff(f"{ticket.ref} has no resolved handoff to rate")
    return max(rateable, key=lambda link: (link.resolved_at or link.created_at, link.id))


def request_rating(session: Session, runtime: Runtime, link: Link, hops: int,
                   last_word: str = "") -> list[OutboxItem]:
    """Ask the parent account's agents to rate the partner, on the parent ticket's thread.

    `last_word` is the partner's message that resolved the child, so the
    agents get one mail for the resolution, not a rating request and a copy.
    """
    subject, text = chain_notices.rating_request(link, last_word)
    return [
        outbox.queue_mail(session, runtime, link.parent, agent, kind=RATING_KIND, subject=subject, text=text,
                          auto=True, inbound_hops=hops)
        for agent in agent_participants(session, runtime.config, link.parent)
    ] + ask_for_rating(session, runtime, link)

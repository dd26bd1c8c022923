"""The line with the customer's status page link, in every mail to a root ticket's requester side.

Only customers get it: the requester of a child ticket is the upstream
dispatcher, who has the desk.  Without `[web] base_url` there is no public
address to link to, and mail goes out without the line.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from gateway.core.config import Config
from gateway.desk.status_links import status_token
from storage.models import Participant, Ticket
from storage.repositories import parent_link

CUSTOMER_ROLES = ("requester", "cc")


def status_page_line(session: Session, config: Config, ticket: Ticket, participant: Participant) -> str | None:
    """`Follow your request online: https://…/s/<token>`, or None when this mail gets no link."""
    base_url = config.web.base_url
    if not base_url or participant.role not in CUSTOMER_ROLES or parent_link(session, ticket.id) is not None:
        return None
    return f"Follow your request online: {base_url}/s/{status_token(session, config.security.secret, ticket)}"

"""Who works a child ticket for the partner, and who asks for the work.

The partner side of a child is its account's agents (hosted partner) or the
address the dispatcher handed it to (external partner, stored as an
`agent` participant acting for that account).  Mirroring, commands and
notices all ask these two questions, so they are answered in one place.
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.core.accounts import account_matches, settings_for
from gateway.core.config import Config
from storage.models import Participant, Ticket

EXECUTOR_ROLE = "agent"


def is_executor(config: Config, ticket: Ticket, email: str | None, participants: Sequence[Participant]) -> bool:
    """`email` works the ticket for its account: an agent or address of it, or the addressed executor."""
    if not email:
        return False
    email = email.lower()
    if account_matches(settings_for(config, ticket.account), email):
        return True
    return any(p.role == EXECUTOR_ROLE and p.email == email for p in participants)


def executors_of(ticket: Ticket) -> list[Participant]:
    """Who hears about the child on the partner's side (its agents, or the external partner's address)."""
    return [p for p in ticket.participants if p.role == EXECUTOR_ROLE and p.email]

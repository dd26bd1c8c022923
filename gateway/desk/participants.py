"""Who is part of a ticket, and in which role.

Only participants may move a ticket forward by mail, and only participants
ever receive mail about it (SPEC §11).  Roles:

- `requester`: opened the ticket (the customer; the upstream side for a child);
- `cc`: contacts the requester copied;
- `agent`: a person working for the ticket's account (from config, not a row);
- `partner`: the other side of a link — agents and addresses of the account
  the ticket was handed to, or handed from;
- `contact`: the end customer's contact carried onto a child ticket.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from gateway.desk.opened_now import opened_now
from gateway.desk.tickets import fit
from parsers.message import Address
from storage.direct_insert import insert_now
from storage.models import Participant, Ticket
from storage.repositories import (
    account_owning_email,
    agent_by_email,
    child_links,
    parent_link,
    participants_by_email,
)

ROLE_ORDER = ("requester", "agent", "partner", "cc", "contact")


def add_participant(
    session: Session, ticket: Ticket, role: str, address: Address | None = None, *,
    telegram_chat_id: int | None = None, account_id: int | None = None,
) -> Participant:
    """The participant with this role and email, created if missing."""
    email = fit(Participant.email, address.email.lower()) if address and address.email else None
    if email:
        for existing in _with_email(session, ticket, email):
            if existing.role == role:
                if address and address.name and not existing.name:
                    existing.name = fit(Participant.name, address.name)
                return existing
    participant = insert_now(session, Participant(
        ticket_id=ticket.id,
        role=role,
        name=fit(Participant.name, (address.name if address else "") or ""),
        email=email,
        telegram_chat_id=telegram_chat_id,
        account_id=account_id,
    ))
    if opened_now(session, ticket) is not None:  # the collection is known: keep it whole
        set_committed_value(ticket, "participants", [*ticket.participants, participant])
    return participant


def _with_email(session: Session, ticket: Ticket, email: str) -> list[Participant]:
    """The ticket's participants with `email`: from memory for a ticket this transaction opened."""
    if opened_now(session, ticket) is not None:
        return [p for p in ticket.participants if p.email == email]
    return participants_by_email(session, ticket.id, email)


def role_of(session: Session, ticket: Ticket, email: str | None) -> str | None:
    """The strongest role `email` has on the ticket, or None for an outsider."""
    return standing(session, ticket, email)[0]


def standing(session: Session, ticket: Ticket, email: str | None) -> tuple[str | None, Participant | None]:
    """`email`'s strongest role on the ticket and its participant row (see `participant_for`), read once."""
    if not email:
        return None, None
    email = email.lower()
    rows = _with_email(session, ticket, email)
    roles = {p.role for p in rows}
    if agent_by_email(session, ticket.account_id, email) is not None or _owned_by(session, email, ticket.account_id):
        roles.add("agent")
    if _belongs_to_linked_account(session, ticket, email):
        roles.add("partner")
    return next((role for role in ROLE_ORDER if role in roles), None), _addressed_row(rows)


def _owned_by(session: Session, email: str, account_id: int) -> bool:
    """An address or domain of the account itself (how external accounts' people are known)."""
    owner = account_owning_email(session, email)
    return owner is not None and owner.id == account_id


def _belongs_to_linked_account(session: Session, ticket: Ticket, email: str) -> bool:
    """`email` is an agent or address of an account this ticket is linked with."""
    owner = account_owning_email(session, email)
    if owner is None or owner.id == ticket.account_id:
        return False
    linked = [link.child.account_id for link in child_links(session, ticket.id)]
    upstream = parent_link(session, ticket.id)
    if upstream is not None:
        linked.append(upstream.parent.account_id)
    return owner.id in linked


def participant_for(session: Session, ticket: Ticket, email: str) -> Participant | None:
    """The participant row of `email` (the one mail to them is addressed to), if any."""
    return _addressed_row(_with_email(session, ticket, email.lower()))


def _addressed_row(rows: list[Participant]) -> Participant | None:
    """Of one address's rows, the one with the strongest role."""
    return min(rows, key=lambda p: ROLE_ORDER.index(p.role) if p.role in ROLE_ORDER else len(ROLE_ORDER),
               default=None)


def copied_contacts(addresses: Iterable[Address], exclude: set[str]) -> list[Address]:
    """The To/Cc addresses worth keeping as `cc` participants: not excluded, no duplicates."""
    seen: set[str] = set()
    kept = []
    for address in addresses:
        email = address.email.lower()
        if not email or email in exclude or email in seen:
            continue
        seen.add(email)
        kept.append(address)
    return kept

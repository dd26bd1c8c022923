"""Named queries over the models, so domain code reads as decisions, not SQL.

Every lookup that could cross tenants takes the account id and filters on
it: a Message-ID, a subject tag or an external id of one account never finds
another account's ticket.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import bindparam, event, func, select, union_all
from sqlalchemy.orm import Session

from storage.directory import cached
from storage.models import (
    Account,
    AccountAddress,
    Agent,
    Event,
    Link,
    Message,
    MessageRef,
    OutboxItem,
    Participant,
    Ticket,
)

# --- accounts ------------------------------------------------------------------


def account_by_slug(session: Session, slug: str) -> Account | None:
    directory, snapshot = cached(session)
    if snapshot is not None:
        account_id = snapshot.slugs.get(slug)
        return directory.account(session, snapshot, account_id) if account_id is not None else None
    return session.scalar(select(Account).where(Account.slug == slug))


def inbound_addresses(session: Session, addresses: Iterable[str]) -> dict[str, AccountAddress]:
    """Inbound (hosted) address rows among `addresses`, keyed by address."""
    wanted = sorted(set(addresses))
    if not wanted:
        return {}
    directory, snapshot = cached(session)
    if snapshot is not None:
        found = {a: directory.address(session, snapshot, a) for a in wanted if snapshot.addresses.get(a, (0, 0, 0))[2]}
        return {a: row for a, row in found.items() if row is not None}
    rows = session.scalars(
        select(AccountAddress).where(AccountAddress.address.in_(wanted), AccountAddress.inbound.is_(True))
    )
    return {row.address: row for row in rows}


def first_inbound_address(session: Session, account_id: int) -> str | None:
    directory, snapshot = cached(session)
    if snapshot is not None:
        return snapshot.first_inbound.get(account_id)
    return session.scalar(
        select(AccountAddress.address)
        .where(AccountAddress.account_id == account_id, AccountAddress.inbound.is_(True))
        .order_by(AccountAddress.id)
        .limit(1)
    )


def all_account_addresses(session: Session) -> set[str]:
    """Every mailbox address any account owns (not domains): our own addresses."""
    directory, snapshot = cached(session)
    if snapshot is not None:
        return {a for a in snapshot.addresses if not a.startswith("@")}
    return set(session.scalars(select(AccountAddress.address).where(~AccountAddress.address.startswith("@"))))


def agent_by_email(session: Session, account_id: int, email: str) -> Agent | None:
    directory, snapshot = cached(session)
    if snapshot is not None:
        found = snapshot.agents.get((account_id, email.lower()))
        return directory.agent(session, snapshot, found[0], account_id, found[1], email.lower()) if found else None
    return session.scalar(select(Agent).where(Agent.account_id == account_id, Agent.email == email.lower()))


def account_owning_email(session: Session, email: str) -> Account | None:
    """The account whose address, domain or agent this email is, if any."""
    email = email.lower()
    domain = "@" + email.rpartition("@")[2]
    directory, snapshot = cached(session)
    if snapshot is not None:
        row = snapshot.addresses.get(email) or snapshot.addresses.get(domain)
        if row is not None:
            return directory.account(session, snapshot, row[1])
        agent = snapshot.agent_by_email.get(email)
        return directory.account(session, snapshot, agent[1]) if agent is not None else None
    row = session.scalar(select(AccountAddress).where(AccountAddress.address.in_([email, domain])))
    if row is not None:
        return row.account
    agent = session.scalar(select(Agent).where(Agent.email == email).order_by(Agent.id).limit(1))
    return agent.account if agent is not None else None


# --- tickets -------------------------------------------------------------------


def ticket_by_ref(session: Session, ref: str, account_id: int | None = None) -> Ticket | None:
    query = select(Ticket).where(Ticket.ref == ref.upper())
    if account_id is not None:
        query = query.where(Ticket.account_id == account_id)
    return session.scalar(query)


# Statements every mail runs, built once: building one costs more than running it.
_REFS_IN_ACCOUNT = (
    select(MessageRef.rfc_message_id, MessageRef.ticket_id, MessageRef.id)
    .where(MessageRef.account_id == bindparam("account_id"),
           MessageRef.rfc_message_id.in_(bindparam("ids", expanding=True)))
    .order_by(MessageRef.id.desc())
)
_PARENT_LINK = select(Link).where(Link.child_ticket_id == bindparam("ticket_id"))
_PARTICIPANTS_BY_EMAIL = select(Participant).where(Participant.ticket_id == bindparam("ticket_id"),
                                                   Participant.email == bindparam("email"))
_INBOUND_MESSAGE = (
    select(Message)
    .join(MessageRef, MessageRef.message_id == Message.id)
    .where(MessageRef.account_id == bindparam("account_id"), MessageRef.rfc_message_id == bindparam("rfc_message_id"),
           Message.direction == "in")
    .limit(1)
)
_REF_COUNT = select(func.count(MessageRef.id)).where(MessageRef.ticket_id == bindparam("ticket_id"),
                                                     MessageRef.rfc_message_id == bindparam("rfc_message_id"))
_OUTBOX_COUNT = select(func.count(OutboxItem.id)).where(
    OutboxItem.recipient == bindparam("recipient"), OutboxItem.kind == bindparam("kind"),
    OutboxItem.created_at >= bindparam("since"),
    OutboxItem.status != "withheld",  # what history would have sent never reached anyone
)
_OUTBOX_COUNT_IN_ACCOUNT = _OUTBOX_COUNT.join(Ticket, OutboxItem.ticket_id == Ticket.id).where(
    Ticket.account_id == bindparam("account_id"))


def ticket_by_message_ids(session: Session, account_id: int, message_ids: Sequence[str]) -> Ticket | None:
    """The ticket of the first of `message_ids` (in order) stored or sent in this account."""
    if not message_ids:
        return None
    rows = session.execute(_REFS_IN_ACCOUNT, {"account_id": account_id, "ids": list(message_ids)}).all()
    by_id: dict[str, int] = {}
    for rfc_id, ticket_id, _ in rows:
        by_id.setdefault(rfc_id, ticket_id)  # newest ticket wins when one id is on several
    for message_id in message_ids:
        if message_id in by_id:
            return session.get(Ticket, by_id[message_id])
    return None


def ticket_by_external_id(session: Session, account_id: int, external_id: str) -> Ticket | None:
    return session.scalar(
        select(Ticket)
        .where(Ticket.account_id == account_id, Ticket.external_id == external_id)
        .order_by(Ticket.id.desc())
        .limit(1)
    )


def tickets(session: Session, account_slug: str | None = None, status: str | None = None) -> list[Ticket]:
    query = select(Ticket).join(Account).order_by(Ticket.id)
    if account_slug:
        query = query.where(Account.slug == account_slug)
    if status:
        query = query.where(Ticket.status == status)
    return list(session.scalars(query))


def parent_link(session: Session, ticket_id: int) -> Link | None:
    memo = _links_memo(session)
    key = ("parent", ticket_id)
    if key not in memo:
        memo[key] = session.scalar(_PARENT_LINK, {"ticket_id": ticket_id})
    return memo[key]


def parent_refs(session: Session) -> dict[int, str]:
    """Child ticket id → its parent's ref, for every link, in one query (list views)."""
    rows = session.execute(select(Link.child_ticket_id, Ticket.ref).join(Ticket, Ticket.id == Link.parent_ticket_id))
    return {child_id: ref for child_id, ref in rows}


def child_links(session: Session, ticket_id: int) -> list[Link]:
    memo = _links_memo(session)
    key = ("children", ticket_id)
    if key not in memo:
        memo[key] = list(session.scalars(select(Link).where(Link.parent_ticket_id == ticket_id).order_by(Link.id)))
    return list(memo[key])


_LINKS_MEMO = "links read"


def _links_memo(session: Session) -> dict:
    """Links read in this transaction: a chain is walked by several stages of one mail.

    Forgotten when the session flushes a change to any link (a handoff in
    this transaction) and when the transaction ends; links are changed
    through the ORM only, so a flush sees every change this session makes.
    """
    return session.info.setdefault(_LINKS_MEMO, {})


@event.listens_for(Session, "after_flush")
def _forget_links_on_change(session: Session, _context: object) -> None:
    if any(isinstance(obj, Link) for obj in (*session.new, *session.dirty, *session.deleted)):
        session.info.pop(_LINKS_MEMO, None)
        return
    created = [obj.id for obj in session.new if isinstance(obj, Ticket)]
    if created:  # a ticket made in this transaction has no links until this session makes one
        memo = _links_memo(session)
        for ticket_id in created:
            memo[("parent", ticket_id)], memo[("children", ticket_id)] = None, []


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")  # a savepoint's rollback too
def _forget_links_at_end(session: Session, *_args: object) -> None:
    session.info.pop(_LINKS_MEMO, None)


def events_of(session: Session, ticket_id: int) -> list[Event]:
    return list(session.scalars(select(Event).where(Event.ticket_id == ticket_id).order_by(Event.at, Event.id)))


def has_event(session: Session, ticket_id: int, type_: str) -> bool:
    return session.scalar(select(func.count(Event.id)).where(Event.ticket_id == ticket_id, Event.type == type_)) > 0


# --- participants and messages ---------------------------------------------------


def participants_by_email(session: Session, ticket_id: int, email: str) -> list[Participant]:
    return list(session.scalars(_PARTICIPANTS_BY_EMAIL, {"ticket_id": ticket_id, "email": email.lower()}))


def requester_of(session: Session, ticket_id: int) -> Participant | None:
    return session.scalar(
        select(Participant)
        .where(Participant.ticket_id == ticket_id, Participant.role == "requester")
        .order_by(Participant.id)
        .limit(1)
    )


def inbound_message_in_account(session: Session, account_id: int, rfc_message_id: str) -> Message | None:
    """An inbound message with this Message-ID already stored on a ticket the account hosts."""
    return session.scalar(_INBOUND_MESSAGE, {"account_id": account_id, "rfc_message_id": rfc_message_id})


def messages_of_inbox_item(session: Session, inbox_id: int) -> list[Message]:
    return list(session.scalars(select(Message).where(Message.inbox_item_id == inbox_id)))


def first_message_id(session: Session, ticket_id: int) -> str | None:
    return session.scalar(
        select(Message.rfc_message_id)
        .where(Message.ticket_id == ticket_id, Message.rfc_message_id.is_not(None))
        .order_by(Message.id)
        .limit(1)
    )


def message_ref_exists(session: Session, ticket_id: int, rfc_message_id: str) -> bool:
    return session.scalar(_REF_COUNT, {"ticket_id": ticket_id, "rfc_message_id": rfc_message_id}) > 0


# --- outbox ----------------------------------------------------------------------


def conversation_ends(session: Session, ticket_id: int, email: str) -> list[tuple[datetime, str | None]]:
    """(created_at, Message-ID) of `email`'s newest inbound message with a Message-ID on the ticket and of the
    newest mail we queued to them (its Message-ID may be None), in one round trip; either may be missing."""
    email = email.lower()
    theirs = (
        select(Message.created_at, Message.rfc_message_id)
        .where(Message.ticket_id == ticket_id, Message.from_email == email, Message.direction == "in",
               Message.rfc_message_id.is_not(None))
        .order_by(Message.id.desc())
        .limit(1)
        .subquery()
    )
    ours = (
        select(OutboxItem.created_at, OutboxItem.rfc_message_id)
        .where(OutboxItem.ticket_id == ticket_id, OutboxItem.recipient == email)
        .order_by(OutboxItem.id.desc())
        .limit(1)
        .subquery()
    )
    return [(row[0], row[1]) for row in session.execute(union_all(select(theirs), select(ours)))]


def outbox_kind(session: Session, ticket_id: int, rfc_message_id: str) -> str | None:
    """The kind of the mail we sent on the ticket with that Message-ID, if we sent it."""
    return session.scalar(
        select(OutboxItem.kind).where(OutboxItem.ticket_id == ticket_id, OutboxItem.rfc_message_id == rfc_message_id)
    )


def outbox_of(session: Session, ticket_id: int) -> list[OutboxItem]:
    return list(session.scalars(select(OutboxItem).where(OutboxItem.ticket_id == ticket_id).order_by(OutboxItem.id)))


def outbox_count_since(session: Session, recipient: str, kind: str, since: datetime,
                       account_id: int | None = None) -> int:
    """Outbox items of `kind` to `recipient` since `since`, optionally only about one account's tickets.

    Without an autoflush: outbox rows are flushed as they are queued, so
    what is pending (events, references) cannot change the count, and it
    stays pending to be written with the next rows in one statement.
    """
    query = _OUTBOX_COUNT if account_id is None else _OUTBOX_COUNT_IN_ACCOUNT
    params = {"recipient": recipient.lower(), "kind": kind, "since": since, "account_id": account_id}
    return session.scalar(query, params, execution_options={"autoflush": False})

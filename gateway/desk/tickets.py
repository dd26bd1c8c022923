"""Tickets: numbering, the status machine, messages and their files, events.

Domain rules only: no parsing, no protocol I/O.  Every change writes an
Event row in the same transaction, because events are the source of every
timing and report (time to first response, time held at a link).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gateway.core import clock
from gateway.desk import deadlines
from gateway.desk.opened_now import mark_opened, opened_now
from gateway.desk.webhook_events import announce, webhooks_hear_of
from parsers.message import Address, ParsedMessage
from parsers.message import Attachment as ParsedAttachment
from storage.blobs import BlobStore
from storage.clock import event_time
from storage.deferred_inserts import defer_insert, write_deferred
from storage.direct_insert import insert_now
from storage.models import (
    Account,
    Attachment,
    Event,
    Message,
    MessageRef,
    Ticket,
)
from storage.repositories import message_ref_exists, parent_link

STATUSES = ("new", "open", "pending", "resolved", "closed", "cancelled")

# Which status may follow which.  `closed` → `open` exists for accounts whose
# `followup_to_closed` is "reopen"; `cancelled` is final.
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"open", "pending", "resolved", "closed", "cancelled"}),
    "open": frozenset({"pending", "resolved", "closed", "cancelled"}),
    "pending": frozenset({"open", "resolved", "closed", "cancelled"}),
    "resolved": frozenset({"open", "closed", "cancelled"}),
    "closed": frozenset({"open"}),
    "cancelled": frozenset(),
}
FINISHED = frozenset({"closed", "cancelled"})
VISIBILITIES = ("public", "internal", "partner", "auto")
AUTO_KINDS = frozenset({"auto_reply", "bounce", "list", "loop"})


def fit(column: Any, value: str | None) -> str | None:
    """`value` made storable in `column`: NUL characters dropped, cut to the column's length.

    Hostile or broken mail must not fail the insert: SQLite stores anything,
    but PostgreSQL rejects NUL in text and over-long values, and the whole
    item would be parked for a display name nobody reads in full.
    """
    if value is None:
        return None
    value = value.replace("\x00", "")
    limit = getattr(column.type, "length", None)
    return value[:limit] if limit is not None else value


class InvalidTransition(ValueError):
    """A status change the machine does not allow (e.g. cancelled → open)."""


def hosting_account(session: Session, ticket: Ticket) -> Account:
    """The hosted account whose addresses carry this ticket's mail.

    An external account has no mailbox here: its tickets are kept on its
    behalf by the account that handed them over, so mail about them goes out
    from, and comes back to, that upstream account's address.
    """
    current = ticket
    for _ in range(64):  # chains are short; the bound only guards against a corrupt cycle
        if current.account.kind == "hosted":
            return current.account
        link = parent_link(session, current.id)
        if link is None:
            break
        current = link.parent
    return current.account


def add_event(session: Session, ticket: Ticket, type_: str, link_id: int | None = None, **detail: Any) -> None:
    """Record a fact about the ticket; the account's webhooks that asked for it get it (same transaction).

    Nothing reads an event back in the transaction that records it unless a
    webhook wants its id: all others are written together (`defer_insert`).
    """
    row = {"ticket_id": ticket.id, "type": type_, "detail": detail, "link_id": link_id, "at": event_time()}
    if not webhooks_hear_of(session, ticket, type_):
        defer_insert(session, Event.__table__, row)
        return
    write_deferred(session, Event.__table__)  # ids stay in the order the events happened
    event = Event(**row)
    session.add(event)
    announce(session, ticket, event)


def next_number(session: Session, account_id: int) -> int:
    """Take the account's next ticket number, gap-free under concurrent writers.

    The UPDATE row-locks the account (PostgreSQL) or runs under the write lock
    of `BEGIN IMMEDIATE` (SQLite) until the transaction ends, and it is rolled
    back together with the ticket insert, so numbers are neither reused nor
    skipped.
    """
    return session.execute(
        text("UPDATE accounts SET last_number = last_number + 1 WHERE id = :id RETURNING last_number"),
        {"id": account_id},
    ).scalar_one()


def open_ticket(
    session: Session,
    account: Account,
    subject: str,
    *,
    external_id: str | None = None,
    related_ticket_id: int | None = None,
    by: str | None = None,
) -> Ticket:
    number = next_number(session, account.id)
    ticket = Ticket(
        account_id=account.id,
        number=number,
        ref=f"{account.prefix}-{number}",
        subject=fit(Ticket.subject, subject),
        status="new",
        external_id=external_id,
        related_ticket_id=related_ticket_id,
    )
    session.add(ticket)
    session.flush()
    mark_opened(session, ticket)
    detail: dict[str, Any] = {"by": by}
    if related_ticket_id is not None:
        detail["related_ticket_id"] = related_ticket_id
    if external_id is not None:
        detail["external_id"] = external_id
    add_event(session, ticket, "ticket_created", **detail)
    return ticket


def change_status(session: Session, ticket: Ticket, to: str, by: str | None) -> bool:
    """Move the ticket to `to`; False when it is already there. Raises InvalidTransition."""
    if to not in STATUSES:
        raise InvalidTransition(f"unknown status {to!r}; expected one of {', '.join(STATUSES)}")
    if ticket.status == to:
        return False
    if to not in TRANSITIONS[ticket.status]:
        raise InvalidTransition(f"{ticket.ref} cannot go from {ticket.status} to {to}")
    add_event(session, ticket, "status_changed", **{"from": ticket.status, "to": to, "by": by})
    ticket.status = to
    ticket.updated_at = event_time()
    deadlines.follow_status(session, ticket, clock.now())  # a child waiting on its customer stops its clocks
    return True


@dataclass
class NewMessage:
    """What a message is made of, independent of the channel it came by."""

    source_key: str
    direction: str
    visibility: str
    channel: str
    sender: Address | None
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    subject: str = ""
    text: str = ""
    elided: str = ""
    signature: str | None = None
    rfc_message_id: str | None = None
    inbox_item_id: int | None = None
    origin_message_id: int | None = None
    via_account_id: int | None = None
    raw_sha256: str | None = None
    unverified: bool = False
    author_agent_id: int | None = None

    @classmethod
    def inbound(cls, parsed: ParsedMessage, *, source_key: str, visibility: str, channel: str,
                inbox_item_id: int | None, raw_sha256: str | None, **overrides: Any) -> "NewMessage":
        """An inbound mail as a message; `overrides` replace what the mail says (e.g. the text)."""
        fields: dict[str, Any] = dict(
            source_key=source_key, direction="in", visibility=visibility, channel=channel,
            sender=parsed.sender, to=[a.email for a in parsed.to], cc=[a.email for a in parsed.cc],
            subject=parsed.subject, text=parsed.text, elided=parsed.elided, signature=parsed.signature,
            rfc_message_id=parsed.message_id, inbox_item_id=inbox_item_id, raw_sha256=raw_sha256,
        )
        return cls(**{**fields, **overrides})


def add_message(session: Session, ticket: Ticket, new: NewMessage) -> Message:
    """Store a message on the ticket, with its MessageRef and a `message_added` event."""
    if new.visibility not in VISIBILITIES:
        raise ValueError(f"unknown visibility {new.visibility!r}")
    message = Message(
        ticket_id=ticket.id,
        source_key=new.source_key,
        inbox_item_id=new.inbox_item_id,
        origin_message_id=new.origin_message_id,
        direction=new.direction,
        visibility=new.visibility,
        channel=new.channel,
        rfc_message_id=fit(Message.rfc_message_id, new.rfc_message_id),
        from_name=fit(Message.from_name, new.sender.name if new.sender else ""),
        from_email=fit(Message.from_email, (new.sender.email or None) if new.sender else None),
        to=list(new.to),
        cc=list(new.cc),
        subject=fit(Message.subject, new.subject),
        text=fit(Message.text, new.text),
        elided=fit(Message.elided, new.elided),
        signature=fit(Message.signature, new.signature),
        unverified=new.unverified,
        via_account_id=new.via_account_id,
        author_agent_id=new.author_agent_id,
        raw_sha256=new.raw_sha256,
        attachments=[],  # known empty: its files are added through `message` (no query to list them later)
    )
    insert_now(session, message)
    if message.rfc_message_id:
        remember_message_id(session, ticket, message.rfc_message_id, message_id=message.id)
    opened = opened_now(session, ticket)
    if opened is None:  # a ticket opened in this transaction carries its time already
        ticket.updated_at = event_time()
    elif new.direction == "in" and message.rfc_message_id and message.from_email:
        opened.theirs[message.from_email] = (message.created_at, message.rfc_message_id)
    add_event(
        session, ticket, "message_added",
        message_id=message.id, direction=new.direction, visibility=new.visibility,
        **{"from": message.from_email},
    )
    return message


def remember_message_id(
    session: Session, ticket: Ticket, rfc_message_id: str, *, message_id: int | None = None,
    participant_id: int | None = None, fresh: bool = False,
) -> None:
    """Record a Message-ID as belonging to the ticket so replies to it thread (rule 2).

    `fresh`: a Message-ID we have just made, which nothing can have recorded yet.
    """
    rfc_message_id = fit(MessageRef.rfc_message_id, rfc_message_id)
    opened = opened_now(session, ticket)
    if opened is not None:
        if rfc_message_id in opened.message_ids:
            return
        opened.message_ids.add(rfc_message_id)
    elif not fresh and message_ref_exists(session, ticket.id, rfc_message_id):
        return
    session.add(
        MessageRef(
            rfc_message_id=rfc_message_id,
            ticket_id=ticket.id,
            account_id=hosting_account(session, ticket).id,
            message_id=message_id,
            participant_id=participant_id,
        )
    )


def store_attachments(
    session: Session, blobs: BlobStore, message: Message, parts: Iterable[ParsedAttachment]
) -> list[Attachment]:
    """Put each part's bytes in the blob store and record it; oversized parts are recorded unstored."""
    rows = []
    for part in parts:
        stored = part.content is not None and not part.truncated
        if stored:
            blobs.put(part.content)
        rows.append(record_attachment(session, message, part, stored))
    return rows


def record_attachment(session: Session, message: Message, part: ParsedAttachment, stored: bool) -> Attachment:
    """The attachment row of `part`; `stored` says its bytes are in the blob store under its sha256."""
    row = Attachment(
        message=message,
        message_id=message.id,
        filename=fit(Attachment.filename, part.filename),
        content_type=fit(Attachment.content_type, part.content_type),
        size=part.size,
        sha256=part.sha256,
        inline=part.inline,
        content_id=fit(Attachment.content_id, part.content_id),
        stored=stored,
    )
    session.add(row)
    return row

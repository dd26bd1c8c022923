"""SQLAlchemy 2 models: the durable state of relaydesk.

Uniqueness rules live in the schema, not only in code, because several
ingress and worker processes write at once: ticket numbers are unique per
account, an inbox item is unique per (channel, key), a message is unique per
(ticket, source) so replaying an inbox item or a mirror never stores twice.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from storage.clock import event_time


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC in and out, also on SQLite (which stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


# --- tenants -----------------------------------------------------------------


class Account(Base):
    """A hosted or external organisation; mirrored from config at start."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(10), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # hosted | external
    last_number: Mapped[int] = mapped_column(Integer, default=0)

    addresses: Mapped[list[AccountAddress]] = relationship(back_populates="account")
    agents: Mapped[list[Agent]] = relationship(back_populates="account")


class AccountAddress(Base):
    """An address (or a whole domain, `@example.com`) that belongs to an account."""

    __tablename__ = "account_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    address: Mapped[str] = mapped_column(String(320), unique=True)
    inbound: Mapped[bool] = mapped_column(Boolean, default=False)

    account: Mapped[Account] = relationship(back_populates="addresses")


class Agent(Base):
    """A person working for an account, known by email and/or Telegram id."""

    __tablename__ = "agents"
    __table_args__ = (
        UniqueConstraint("account_id", "email"),
        UniqueConstraint("account_id", "telegram_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    # `#digest off` by mail: the agent's own choice, so config syncs never reset it.
    digest_off: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    account: Mapped[Account] = relationship(back_populates="agents")


# --- tickets -----------------------------------------------------------------


class Ticket(Base):
    """One request inside one account, ref PREFIX-N."""

    __tablename__ = "tickets"
    __table_args__ = (UniqueConstraint("account_id", "number"), Index("ix_tickets_account_status", "account_id", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    number: Mapped[int] = mapped_column(Integer)
    ref: Mapped[str] = mapped_column(String(32), unique=True)
    subject: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="new")
    asset: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(200), index=True)
    assignee: Mapped[str | None] = mapped_column(String(320))
    related_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    created_at: Mapped[datetime] = mapped_column(default=event_time)
    updated_at: Mapped[datetime] = mapped_column(default=event_time, onupdate=event_time)

    account: Mapped[Account] = relationship()
    participants: Mapped[list[Participant]] = relationship(
        back_populates="ticket", order_by="Participant.id", foreign_keys="Participant.ticket_id"
    )
    messages: Mapped[list[Message]] = relationship(
        back_populates="ticket", order_by="Message.id", foreign_keys="Message.ticket_id"
    )


class Participant(Base):
    """Someone on a ticket: requester, copied contact, agent or partner side.

    Reply tokens are issued per participant, so a reply via a token proves
    which ticket *and* which party it answers.
    """

    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("ticket_id", "role", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # requester | cc | agent | partner
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    telegram_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))

    ticket: Mapped[Ticket] = relationship(back_populates="participants", foreign_keys=[ticket_id])


class Message(Base):
    """One item on a ticket: inbound or outbound, with a visibility."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("ticket_id", "source_key", name="uq_messages_ticket_source"),
        Index("ix_messages_rfc_id", "rfc_message_id"),
        Index("ix_messages_from_email", "from_email", "id"),  # a forwarded original by its sender, newest first
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    # What produced this message, unique per ticket: "inbox:<id>", "mirror:<message id>", …
    source_key: Mapped[str] = mapped_column(String(100))
    inbox_item_id: Mapped[int | None] = mapped_column(ForeignKey("inbox_items.id"))
    origin_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    visibility: Mapped[str] = mapped_column(String(10))  # public | internal | partner | auto
    channel: Mapped[str] = mapped_column(String(10))  # smtp | imap | telegram | cli | mirror
    rfc_message_id: Mapped[str | None] = mapped_column(String(998))
    from_name: Mapped[str] = mapped_column(String(200), default="")
    from_email: Mapped[str | None] = mapped_column(String(320))
    to: Mapped[list[Any]] = mapped_column(default=list)
    cc: Mapped[list[Any]] = mapped_column(default=list)
    subject: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    elided: Mapped[str] = mapped_column(Text, default="")
    signature: Mapped[str | None] = mapped_column(Text)
    unverified: Mapped[bool] = mapped_column(Boolean, default=False)
    via_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    # The agent who wrote it when the channel vouches for them (a team chat); they may have no email.
    author_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    raw_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=event_time)

    ticket: Mapped[Ticket] = relationship(back_populates="messages", foreign_keys=[ticket_id])
    attachments: Mapped[list[Attachment]] = relationship(back_populates="message", order_by="Attachment.id")


class Attachment(Base):
    """A file on a message; the bytes live in the blob store under `sha256`."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(500))
    content_type: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    inline: Mapped[bool] = mapped_column(Boolean, default=False)
    content_id: Mapped[str | None] = mapped_column(String(500))
    stored: Mapped[bool] = mapped_column(Boolean, default=True)

    message: Mapped[Message] = relationship(back_populates="attachments")


class MessageRef(Base):
    """An RFC Message-ID we stored or sent, and the ticket it belongs to.

    Threading rule 2 looks up In-Reply-To/References here, always within the
    receiving account, so one tenant's Message-IDs never thread another's mail.
    """

    __tablename__ = "message_refs"
    __table_args__ = (UniqueConstraint("rfc_message_id", "ticket_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rfc_message_id: Mapped[str] = mapped_column(String(998), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"))


class Link(Base):
    """Parent ticket → child ticket in a partner account (a handoff)."""

    __tablename__ = "links"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    child_ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="handed_off")
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=event_time)
    accepted_at: Mapped[datetime | None] = mapped_column()
    resolved_at: Mapped[datetime | None] = mapped_column()
    rated_at: Mapped[datetime | None] = mapped_column()

    parent: Mapped[Ticket] = relationship(foreign_keys=[parent_ticket_id])
    child: Mapped[Ticket] = relationship(foreign_keys=[child_ticket_id])


class Event(Base):
    """A timestamped, typed fact: the source of every timing and report."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    link_id: Mapped[int | None] = mapped_column(ForeignKey("links.id"))
    type: Mapped[str] = mapped_column(String(40), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    at: Mapped[datetime] = mapped_column(default=event_time, index=True)


# --- work queues -------------------------------------------------------------


class InboxItem(Base):
    """A raw inbound unit, committed before the channel acknowledges it."""

    __tablename__ = "inbox_items"
    __table_args__ = (
        UniqueConstraint("channel", "dedupe_key"),
        Index("ix_inbox_status", "status", "updated_at"),
        Index("ix_inbox_sequence", "sequence_key", "status", "id"),
        Index("ix_inbox_raw_sha256", "raw_sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))
    dedupe_key: Mapped[str] = mapped_column(String(500))
    # Units sharing a key (one Telegram chat) are applied in the order they were stored.
    sequence_key: Mapped[str | None] = mapped_column(String(100))
    raw_sha256: Mapped[str] = mapped_column(String(64))
    # The unit itself when small (IN_ROW_LIMIT in storage/blobs.py), else None and a blob; loaded on use.
    raw: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    size: Mapped[int] = mapped_column(BigInteger)
    envelope: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending | done | parked | held
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    problems: Mapped[list[Any]] = mapped_column(default=list)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class OutboxItem(Base):
    """An outbound unit, written in the same transaction as its cause."""

    __tablename__ = "outbox_items"
    __table_args__ = (
        Index("ix_outbox_status", "status", "next_attempt_at"),
        Index("ix_outbox_recipient_kind", "recipient", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    kind: Mapped[str] = mapped_column(String(20))  # ack | reply | mirror | handoff | rating | error | notice
    channel: Mapped[str] = mapped_column(String(10), default="email")  # email | telegram
    recipient: Mapped[str] = mapped_column(String(320))
    # The bounce mailbox, sent VERP-tagged with this row's id; '' sends with a null sender.
    envelope_from: Mapped[str] = mapped_column(String(320))
    rfc_message_id: Mapped[str | None] = mapped_column(String(998), unique=True)
    # A mail's rendered bytes: here when small (IN_ROW_LIMIT in storage/blobs.py), else a blob named by its hash.
    rendered: Mapped[bytes | None] = mapped_column(LargeBinary)
    payload_sha256: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # pending | sent | failed | withheld (caused by history: recorded, never sent)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()

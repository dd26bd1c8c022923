"""Where each channel has got to: IMAP folder cursors, Telegram chats and posts, poller leases.

State the channels keep for themselves rather than the ticket model, apart
from storage/models.py to keep modules small; they share its `Base`, so the
schema (and Alembic's view of it) is one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow


class ImapFolder(Base):
    """How far one folder of one IMAP mailbox has been imported.

    UIDs are only comparable within one UIDVALIDITY: when the server
    announces a new one, the cursor starts over (the pipeline drops the
    copies it has already stored by their Message-ID).
    """

    __tablename__ = "imap_folders"
    __table_args__ = (UniqueConstraint("mailbox", "folder"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(400))  # user@host:port
    folder: Mapped[str] = mapped_column(String(400))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    # When relaydesk first opened the folder: mail that arrived before is history.  NULL for folders
    # connected before this was kept (their mail is all live, as it was then).
    connected_at: Mapped[datetime | None] = mapped_column()
    # When the folder's first sync reached the end: until then a Sent mail that threads nowhere is held.
    synced_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # When the folder last answered a poll (new mail or not): health tells a silent folder from a quiet one.
    checked_at: Mapped[datetime | None] = mapped_column()


# --- telegram ------------------------------------------------------------------


class TelegramChat(Base):
    """A private chat a customer started with `/start <account>`: whose support it reaches."""

    __tablename__ = "telegram_chats"

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    wants_new_ticket: Mapped[bool] = mapped_column(Boolean, default=False)  # after /new
    started_at: Mapped[datetime] = mapped_column(default=utcnow)


class TelegramPost(Base):
    """A message the bot sent about a ticket, so that a reply to it in the chat finds the ticket."""

    __tablename__ = "telegram_posts"
    __table_args__ = (UniqueConstraint("chat_id", "message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    outbox_item_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_items.id"))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


class Lease(Base):
    """Who may run a singleton job (polling one mailbox, one bot's update loop) until when.

    Several `relaydesk serve` processes share a database; the holder renews
    its lease while it works, and another process takes over once it lapses.
    """

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column()

"""What the handling of one Telegram update shares: the update, its inbox row, and what it produced.

The customer flow (gateway/telegram_customers.py) and the team-chat flow
(gateway/telegram_team.py) both answer in the chat and store messages on
tickets through this context; `outbox` and `problems` are their results.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from gateway.core.config import TelegramConfig
from gateway.core.runtime import Runtime
from gateway.desk.tickets import NewMessage, add_message, record_attachment
from gateway.outbound.chat_outbox import queue_chat_message
from parsers.message import Address
from parsers.message import Attachment as ParsedAttachment
from parsers.telegram import TelegramUpdate
from storage.models import Agent, InboxItem, Message, OutboxItem, Ticket

CHAT_REPLY_KIND = "chat"


@dataclass
class ChatContext:
    runtime: Runtime
    session: Session
    item: InboxItem
    update: TelegramUpdate
    outbox: list[OutboxItem] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def telegram(self) -> TelegramConfig:
        assert self.runtime.config.telegram is not None  # the channel runs only with a [telegram] section
        return self.runtime.config.telegram

    def say(self, text: str, ticket: Ticket | None = None, kind: str = CHAT_REPLY_KIND) -> None:
        """Answer in the chat the update came from."""
        self.outbox.append(queue_chat_message(self.session, self.update.chat_id, text, kind=kind, ticket=ticket))

    def store(self, ticket: Ticket, author: Address, visibility: str = "public",
              agent: Agent | None = None) -> Message:
        """The update's text and files as a message on `ticket`; `agent` when an agent of its account wrote it."""
        message = add_message(self.session, ticket, NewMessage(
            source_key=f"inbox:{self.item.id}", direction="in", visibility=visibility, channel="telegram",
            sender=author, subject=ticket.subject, text=self.update.text,
            inbox_item_id=self.item.id, raw_sha256=self.item.raw_sha256,
            author_agent_id=agent.id if agent is not None else None,
        ))
        envelope = self.item.envelope or {}
        self.problems.extend(envelope.get("file_problems") or [])
        for stored in envelope.get("files") or []:  # already in the blob store: the channel put them there
            part = ParsedAttachment(stored["filename"], stored["content_type"], stored["size"], stored["sha256"])
            record_attachment(self.session, message, part, stored=True)
        return message

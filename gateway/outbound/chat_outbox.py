"""Queue one Telegram message (or a tap's answer) in the caller's transaction.

Like mail, a chat message is an OutboxItem written with its cause and sent
by the delivery actor; the payload holds everything the transport needs:
the text, inline buttons as (label, callback data) rows, and the ticket the
post is about, so that a reply to it in the chat finds that ticket.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from gateway.outbound.compose import FileRef
from gateway.desk.withheld import WITHHELD, is_withheld
from storage.clock import event_time
from storage.channel_models import TelegramPost
from storage.models import OutboxItem, Ticket

CHANNEL = "telegram"
CALLBACK_ANSWER_KIND = "tap_answer"
POST_EDIT_KIND = "post_edit"
TELEGRAM_TEXT_LIMIT = 4096

Buttons = Sequence[Sequence[tuple[str, str]]]


def queue_chat_message(session: Session, chat_id: int, text: str, *, kind: str, ticket: Ticket | None = None,
                       buttons: Buttons = (), message_id: int | None = None,
                       files: Sequence[FileRef] = ()) -> OutboxItem:
    """A message to `chat_id`; `buttons` are rows of (label, callback data); `files` follow it as documents."""
    if len(text) > TELEGRAM_TEXT_LIMIT:
        text = text[:TELEGRAM_TEXT_LIMIT - 1] + "…"
    return _queued(session, OutboxItem(
        ticket_id=ticket.id if ticket is not None else None,
        message_id=message_id,
        kind=kind,
        channel=CHANNEL,
        recipient=str(chat_id),
        envelope_from="",
        payload={"chat_id": chat_id, "text": text, "buttons": [[list(b) for b in row] for row in buttons],
                 "ref": ticket.ref if ticket is not None else None,
                 "files": [{"sha256": f.sha256, "filename": f.filename} for f in files]},
    ))


def queue_post_edit(session: Session, chat_id: int, message_id: int, text: str, *, buttons: Buttons = ()
                    ) -> OutboxItem:
    """Rewrite one of the bot's posts (say what was done, drop buttons that no longer apply)."""
    return _queued(session, OutboxItem(
        kind=POST_EDIT_KIND, channel=CHANNEL, recipient=str(chat_id), envelope_from="",
        payload={"chat_id": chat_id, "edit_message_id": message_id, "text": text[:TELEGRAM_TEXT_LIMIT],
                 "buttons": [[list(b) for b in row] for row in buttons]},
    ))


def queue_tap_answer(session: Session, callback_id: str, text: str) -> OutboxItem:
    """The small notice Telegram shows the person who tapped a button (it waits for one)."""
    return _queued(session, OutboxItem(
        kind=CALLBACK_ANSWER_KIND, channel=CHANNEL, recipient=f"callback:{callback_id}", envelope_from="",
        payload={"callback_id": callback_id, "text": text[:200]},
    ))


def remember_post(session: Session, item: OutboxItem, message_id: int) -> None:
    """Telegram accepted `item` as message `message_id`: a reply to it in the chat belongs to its ticket."""
    if item.ticket_id is not None:
        session.add(TelegramPost(chat_id=item.payload["chat_id"], message_id=message_id, ticket_id=item.ticket_id,
                                 outbox_item_id=item.id))


def _queued(session: Session, item: OutboxItem) -> OutboxItem:
    if is_withheld(session, item.kind):
        item.status, item.created_at = WITHHELD, event_time()
    session.add(item)
    session.flush()
    return item

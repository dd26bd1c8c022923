"""An agent's public message on a root ticket reaches the requester side: by mail, or in their chat.

Used for agents' mail (pipeline) and agents' comments in a team chat
(telegram_updates).  Whoever was already in the message's To/Cc got it
directly and is skipped, and so is the author.  Child tickets are not
relayed here: mirroring carries them along the chain.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from gateway.core.runtime import Runtime
from gateway.outbound.chat_outbox import queue_chat_message
from gateway.outbound.compose import file_refs
from gateway.outbound.notices import chat_reply
from gateway.outbound.outbox import queue_mail
from storage.models import Message, OutboxItem, Ticket
from storage.repositories import parent_link

REPLY_KIND = "reply"


def relay_to_requester_side(session: Session, runtime: Runtime, ticket: Ticket, message: Message,
                            hops: int) -> list[OutboxItem]:
    if parent_link(session, ticket.id) is not None:
        return []
    already_mailed = {message.from_email, *(message.to or []), *(message.cc or [])}
    chats: set[int] = set()
    queued = []
    for participant in ticket.participants:
        if participant.role not in ("requester", "cc"):
            continue
        if participant.email:
            if participant.email in already_mailed:
                continue
            already_mailed.add(participant.email)
            queued.append(queue_mail(session, runtime, ticket, participant, kind=REPLY_KIND, text=message.text,
                                     inbound_hops=hops, attachments=file_refs(message.attachments),
                                     message_id=message.id))
        elif participant.telegram_chat_id is not None and participant.telegram_chat_id not in chats:
            chats.add(participant.telegram_chat_id)
            queued.append(queue_chat_message(session, participant.telegram_chat_id, chat_reply(ticket, message),
                                             kind=REPLY_KIND, ticket=ticket, message_id=message.id,
                                             files=file_refs(message.attachments)))
    return queued

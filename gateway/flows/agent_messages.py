"""An agent writes on a ticket outside their mail client (the web desk, a team chat), or hands it off there.

What follows is what follows a mailed reply: the first public answer is
timed and opens a new ticket; the text goes to the requester side (root
tickets) and along the chain (mirroring), each recipient getting one mail
with the threading headers, reply token and chain line of any other.  A
handoff typed in the desk is a `#handoff <partner> note` without a mail
around it: the same detection, the same child ticket and partner notice.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.orm import Session

from gateway.core.accounts import settings_for
from gateway.flows.handoff import HandoffResult, HandoffSource, hand_off
from gateway.flows.handoff_detection import HANDOFF_COMMAND, detect_handoff
from gateway.flows.mirroring import mirror
from gateway.flows.relays import relay_to_requester_side
from gateway.core.runtime import Runtime
from gateway.desk.tickets import NewMessage, add_event, add_message, change_status, store_attachments
from parsers.message import Address, Command, ParsedMessage
from parsers.message import Attachment as ParsedAttachment
from storage.models import Message, OutboxItem, Ticket
from storage.repositories import has_event


def record_agent_reply(session: Session, ticket: Ticket, by: str | None, message: Message) -> None:
    """An agent's public answer: the ticket's first response is timed, and a new ticket is open from now."""
    if not has_event(session, ticket.id, "first_response"):
        add_event(session, ticket, "first_response", by=by, message_id=message.id)
    if ticket.status == "new":
        change_status(session, ticket, "open", by=by)


def share_agent_message(session: Session, runtime: Runtime, ticket: Ticket, message: Message,
                        hops: int = 0) -> list[OutboxItem]:
    """Send an agent's public message on, as if it had been mailed: to the requester side and along the chain."""
    record_agent_reply(session, ticket, message.from_email, message)
    return (relay_to_requester_side(session, runtime, ticket, message, hops)
            + mirror(session, runtime, message, hops))


def post_agent_message(session: Session, runtime: Runtime, ticket: Ticket, author: Address, text: str, *,
                       visibility: str, channel: str, agent_id: int | None = None,
                       files: Sequence[ParsedAttachment] = ()) -> tuple[Message, list[OutboxItem]]:
    """Store what an agent typed on `ticket` (public or internal), with its files, and, if public, send it on."""
    message = add_message(session, ticket, NewMessage(
        source_key=f"{channel}:{uuid.uuid4().hex}", direction="in", visibility=visibility, channel=channel,
        sender=author, subject=ticket.subject, text=text.strip(), author_agent_id=agent_id,
    ))
    if files:
        store_attachments(session, runtime.blobs, message, files)
        session.flush()
        session.refresh(message, ["attachments"])
    if visibility != "public":
        return message, []
    return message, share_agent_message(session, runtime, ticket, message)


def typed_handoff(session: Session, runtime: Runtime, parent: Ticket, dispatcher: Address, partner: str, note: str,
                  channel: str) -> HandoffResult:
    """Hand `parent` to `partner` (a slug) with `note`, as `#handoff partner note` would; UnknownPartner if not one."""
    config = runtime.config
    parsed = typed_message(dispatcher, parent.subject, note.strip(), (Command(HANDOFF_COMMAND, (partner,)),))
    intent = detect_handoff(parsed, settings_for(config, parent.account), config)
    assert intent is not None  # a #handoff command always names a partner or raises
    source_key = f"{channel}:{uuid.uuid4().hex}"
    result = hand_off(session, runtime, parent, intent,
                      HandoffSource(parsed=parsed, dispatcher=dispatcher, source_key=source_key, channel=channel))
    add_message(session, parent, NewMessage(  # the dispatcher's own record, as their forward is kept by mail
        source_key=source_key, direction="in", visibility="internal", channel=channel, sender=dispatcher,
        subject=parent.subject, text=f"Handed off to {intent.partner.name}" + (f":\n{note.strip()}" if note.strip() else "."),
    ))
    return result


def typed_message(sender: Address, subject: str, text: str, commands: Sequence[Command] = ()) -> ParsedMessage:
    """What a message typed outside mail looks like to the code that reads mail: no headers, no quotes."""
    return ParsedMessage(
        message_id=None, subject=subject, sender=sender, to=(), cc=(), reply_to=(), date=None, in_reply_to=None,
        references=(), text=text, elided="", signature=None, html=None, kind="normal", forward=None, bounce=None,
        commands=tuple(commands), attachments=(), headers={}, problems=(),
    )

"""Posts to an account's Telegram team chat: new tickets, handoffs and rating requests with buttons,
and customers' follow-ups.

The buttons' callback data name an action and a row id ("resolve:17",
"rate:4:5"); whoever taps one is checked against the account's agents when
the tap is processed (gateway/telegram_team.py), so the data need no
secret.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from gateway.core.runtime import Runtime
from gateway.desk.chain import chain_line
from gateway.outbound.chat_outbox import Buttons, queue_chat_message
from gateway.outbound.compose import FileRef, file_refs
from storage.models import Attachment, Link, OutboxItem, Ticket

TEAM_POST_KIND = "team_post"
RATINGS = range(1, 6)


def team_chat_of(runtime: Runtime, ticket: Ticket) -> int | None:
    """The chat id of the team chat bound to the ticket's account, if any."""
    telegram = runtime.config.telegram
    return telegram.team_chats.get(ticket.account.slug) if telegram is not None else None


def ticket_buttons(ticket: Ticket) -> Buttons:
    return [[("Take", f"take:{ticket.id}"), ("Resolve", f"resolve:{ticket.id}")]]


def announce_ticket(session: Session, runtime: Runtime, ticket: Ticket, headline: str, text: str,
                    files: Sequence[Attachment] = ()) -> list[OutboxItem]:
    """A new ticket or handoff in the team chat, with Take / Resolve buttons, and its files after it.

    A crew that works from Telegram alone sees the photos and documents of
    the request there, not only in the mail they may never read.
    """
    chat = team_chat_of(runtime, ticket)
    if chat is None:
        return []
    body = f"{headline}\n{chain_line(session, ticket)}\n\n{text}".strip()
    return [queue_chat_message(session, chat, body, kind=TEAM_POST_KIND, ticket=ticket, buttons=ticket_buttons(ticket),
                               files=_attached(files))]


def post_to_team(session: Session, runtime: Runtime, ticket: Ticket, text: str,
                 files: Sequence[Attachment] = ()) -> list[OutboxItem]:
    """A customer's follow-up in the team chat; agents reply to it to answer (telegram_team)."""
    chat = team_chat_of(runtime, ticket)
    if chat is None:
        return []
    return [queue_chat_message(session, chat, text, kind=TEAM_POST_KIND, ticket=ticket, files=_attached(files))]


def _attached(files: Sequence[Attachment]) -> list[FileRef]:
    """The files people attached; inline parts of a mail (signature logos, pasted images) stay out of the chat."""
    return file_refs([f for f in files if not f.inline])


def ask_for_rating(session: Session, runtime: Runtime, link: Link) -> list[OutboxItem]:
    """A resolved handoff in the parent's team chat, with one button per rating."""
    chat = team_chat_of(runtime, link.parent)
    if chat is None:
        return []
    text = (f"{link.child.ref} ({link.child.account.name}) resolved {link.parent.ref}'s request. "
            "How well did they do?")
    buttons = [[(str(stars), f"rate:{link.id}:{stars}") for stars in RATINGS]]
    return [queue_chat_message(session, chat, text, kind=TEAM_POST_KIND, ticket=link.parent, buttons=buttons)]

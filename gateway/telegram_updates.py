"""Apply one Telegram update (already parsed) in the pipeline's transaction; returns the outbox rows it made.

Customers write to the bot in a private chat bound to one account by
`/start <account>`.  Each text, photo or document is a message on their
ticket: the ticket of the bot post they replied to, else their latest
unfinished ticket, else a new one (`/new` forces a new one).  The
account's agents get each message by mail, so replying from their mail
client answers in the chat (the pipeline's `relay_agent_reply`).

In a team chat, agents (mapped from Telegram user ids by config) tap the
buttons of the bot's posts (take, resolve, rate) or reply to a post to
comment on its ticket (`/note …` for an internal note).  Taps and comments
from anyone who is not an agent of the ticket's account change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway import links, status_propagation
from gateway.chat_outbox import Buttons, queue_chat_message, queue_post_edit, queue_tap_answer
from gateway.config import TelegramConfig
from gateway.mirroring import agent_participants, mirror
from gateway.notices import chat_message_notice
from gateway.outbox import queue_mail
from gateway.participants import add_participant
from gateway.relays import relay_to_requester_side
from gateway.runtime import Runtime
from gateway.team_chat import RATINGS, announce_ticket, post_to_team
from gateway.telegram_link import agent_by_telegram_id, agent_for_code
from gateway.tickets import FINISHED, NewMessage, add_event, add_message, change_status, open_ticket, store_attachments
from parsers.message import Address
from parsers.message import Attachment as ParsedAttachment
from parsers.telegram import TelegramUpdate
from storage.models import (
    Account,
    Agent,
    InboxItem,
    Link,
    Message,
    OutboxItem,
    Participant,
    TelegramChat,
    TelegramPost,
    Ticket,
    utcnow,
)
from storage.repositories import account_by_slug, agent_by_email

CHAT_REPLY_KIND = "chat"
NOT_AN_AGENT = "Only the team's agents can do this."
# The customer's chat message copied to the agents' mail; answering it is a public reply (a notice's answer is not).
CHAT_COPY_KIND = "chat_copy"
SUBJECT_CHARS = 80


@dataclass
class ChatContext:
    """What one update's handling shares; `outbox` and `problems` are its results."""

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

    def say(self, text: str, ticket: Ticket | None = None) -> None:
        """Answer in the chat the update came from."""
        self.outbox.append(queue_chat_message(self.session, self.update.chat_id, text, kind=CHAT_REPLY_KIND,
                                              ticket=ticket))


def apply_update(runtime: Runtime, session: Session, item: InboxItem, update: TelegramUpdate) -> ChatContext:
    """Apply one update; the pipeline holds its chat's sequence, so two of one chat never interleave."""
    ctx = ChatContext(runtime, session, item, update)
    ctx.problems.extend(update.problems)
    if runtime.config.telegram is None:
        ctx.problems.append("a Telegram update, but the config has no [telegram] section")
    elif update.kind == "callback":
        _tap(ctx)
    elif update.kind == "message" and update.chat_type == "private":
        _customer_message(ctx)
    elif update.kind == "message":
        _team_message(ctx)
    return ctx


# --- customers -----------------------------------------------------------------


def _customer_message(ctx: ChatContext) -> None:
    update = ctx.update
    if update.command == "start":
        _start(ctx)
        return
    if update.command == "link":
        _link_agent(ctx)
        return
    chat = _bound_chat(ctx)
    if chat is None:
        return
    account = ctx.session.get(Account, chat.account_id)
    if update.command == "new":
        chat.wants_new_ticket = True
        if not update.text:
            ctx.say("Write your new request; it will get a ticket of its own.")
            return
    elif update.command == "tickets":
        _list_tickets(ctx, account)
        return
    elif update.command == "status":
        ticket = _latest_ticket(ctx, account)
        ctx.say(f"{ticket.ref}: {ticket.status} — {ticket.subject}" if ticket else "You have no open request.", ticket)
        return
    elif update.command is not None:
        ctx.say("Commands: /new starts a new request, /tickets lists yours, /status shows the latest. "
                "Anything else you write goes to your request.")
        return
    if not update.text and not update.files:
        ctx.problems.append("a chat message without text or files")
        return
    _customer_writes(ctx, chat, account)


def _start(ctx: ChatContext) -> None:
    slug = ctx.update.command_args[0] if ctx.update.command_args else ""
    account = _served_account(ctx, slug)
    if account is None:
        ctx.say("This link does not lead to a support desk here. Please use the link your supplier gave you.")
        ctx.problems.append(f"/start with unknown or unserved account {slug!r}")
        return
    chat = ctx.session.scalar(select(TelegramChat).where(TelegramChat.chat_id == ctx.update.chat_id))
    if chat is None:
        ctx.session.add(TelegramChat(chat_id=ctx.update.chat_id, account_id=account.id))
    else:
        chat.account_id, chat.wants_new_ticket = account.id, False
    ctx.say(f"Welcome to {account.name} support. Write your request here — text, photos and files are welcome; "
            "you will get our answers in this chat. /new starts another request, /tickets lists yours.")


def _link_agent(ctx: ChatContext) -> None:
    """`/link CODE`: this Telegram user is the agent the code was made for (gateway/telegram_link.py)."""
    code = ctx.update.command_args[0] if ctx.update.command_args else ""
    agent = agent_for_code(ctx.session, ctx.runtime.config.security.secret, code, utcnow().date())
    if agent is None or ctx.update.user_id is None:
        ctx.say("This code is not valid (codes are good for two days and once). Ask for a new one.")
        ctx.problems.append("/link with a wrong or spent code")
        return
    for other in ctx.session.scalars(select(Agent).where(Agent.account_id == agent.account_id,
                                                         Agent.telegram_id == ctx.update.user_id)):
        other.telegram_id = None  # one Telegram user is one agent per account
    ctx.session.flush()
    agent.telegram_id = ctx.update.user_id
    ctx.say(f"Linked: you act as {agent.name} of {agent.account.name} in its team chat.")


def _served_account(ctx: ChatContext, slug: str) -> Account | None:
    account = account_by_slug(ctx.session, slug) if slug else None
    if account is None or account.kind != "hosted":
        return None
    served = ctx.telegram.accounts
    return account if not served or account.slug in served else None


def _bound_chat(ctx: ChatContext) -> TelegramChat | None:
    """The chat's account; a chat that never said /start is bound when the bot serves one account only."""
    chat = ctx.session.scalar(select(TelegramChat).where(TelegramChat.chat_id == ctx.update.chat_id))
    if chat is not None:
        return chat
    served = ctx.telegram.accounts
    account = _served_account(ctx, served[0]) if len(served) == 1 else None
    if account is None:
        ctx.say("Please open this chat with the link your supplier gave you, or send /start followed by its name.")
        ctx.problems.append("a message from a chat that never chose an account with /start")
        return None
    chat = TelegramChat(chat_id=ctx.update.chat_id, account_id=account.id)
    ctx.session.add(chat)
    return chat


def _customer_writes(ctx: ChatContext, chat: TelegramChat, account: Account) -> None:
    update = ctx.update
    ticket = None if chat.wants_new_ticket else (_replied_ticket(ctx, account) or _latest_ticket(ctx, account))
    chat.wants_new_ticket = False
    new = ticket is None
    if new:
        ticket = open_ticket(ctx.session, account, _subject(update), by=f"telegram:{update.user_id}")
    requester = _chat_participant(ctx, ticket)
    message = _store(ctx, ticket, requester.name)
    if new:
        ctx.say(f"Thank you, we have your request: {ticket.ref} — {ticket.subject}. "
                "Replies to our messages here go to this request.", ticket)
        ctx.outbox += announce_ticket(ctx.session, ctx.runtime, ticket, f"New request {ticket.ref} via Telegram",
                                      f"{requester.name}: {message.text}")
    else:
        if ticket.status == "resolved":
            change_status(ctx.session, ticket, "open", by=f"telegram:{update.user_id}")
        ctx.outbox += post_to_team(ctx.session, ctx.runtime, ticket, f"{ticket.ref} · {requester.name}:\n{message.text}")
    ctx.outbox += _tell_agents(ctx, ticket, message, requester.name)
    ctx.outbox += mirror(ctx.session, ctx.runtime, message, hops=0)


def _replied_ticket(ctx: ChatContext, account: Account) -> Ticket | None:
    """The ticket of the bot post this message replies to, if it is one of this chat's tickets."""
    if ctx.update.reply_to_message_id is None:
        return None
    post = ctx.session.scalar(select(TelegramPost).where(
        TelegramPost.chat_id == ctx.update.chat_id, TelegramPost.message_id == ctx.update.reply_to_message_id))
    ticket = ctx.session.get(Ticket, post.ticket_id) if post is not None else None
    if ticket is None or ticket.account_id != account.id or ticket.status == "closed":
        return None
    return ticket


def _latest_ticket(ctx: ChatContext, account: Account) -> Ticket | None:
    return ctx.session.scalar(
        select(Ticket).join(Participant, Participant.ticket_id == Ticket.id)
        .where(Participant.telegram_chat_id == ctx.update.chat_id, Participant.role == "requester",
               Ticket.account_id == account.id, Ticket.status.not_in(FINISHED))
        .order_by(Ticket.updated_at.desc(), Ticket.id.desc()).limit(1)
    )


def _list_tickets(ctx: ChatContext, account: Account) -> None:
    tickets = ctx.session.scalars(
        select(Ticket).join(Participant, Participant.ticket_id == Ticket.id)
        .where(Participant.telegram_chat_id == ctx.update.chat_id, Participant.role == "requester",
               Ticket.account_id == account.id)
        .order_by(Ticket.id.desc()).limit(20)
    ).all()
    lines = [f"{t.ref}: {t.status} — {t.subject}" for t in tickets]
    ctx.say("\n".join(lines) if lines else "You have no requests yet.")


def _subject(update: TelegramUpdate) -> str:
    first_line = update.text.strip().splitlines()[0] if update.text.strip() else ""
    if first_line:
        return first_line[:SUBJECT_CHARS]
    return f"{'Photo' if update.files else 'Message'} from {update.user_name or 'a Telegram user'}"


def _chat_participant(ctx: ChatContext, ticket: Ticket) -> Participant:
    for participant in ticket.participants:
        if participant.role == "requester" and participant.telegram_chat_id == ctx.update.chat_id:
            return participant
    return add_participant(ctx.session, ticket, "requester", Address(ctx.update.user_name, ""),
                           telegram_chat_id=ctx.update.chat_id)


def _store(ctx: ChatContext, ticket: Ticket, author: str, visibility: str = "public",
           author_email: str = "") -> Message:
    message = add_message(ctx.session, ticket, NewMessage(
        source_key=f"inbox:{ctx.item.id}", direction="in", visibility=visibility, channel="telegram",
        sender=Address(author, author_email), subject=ticket.subject, text=ctx.update.text,
        inbox_item_id=ctx.item.id, raw_sha256=ctx.item.raw_sha256,
    ))
    store_attachments(ctx.session, ctx.runtime.blobs, message, _files(ctx))
    return message


def _files(ctx: ChatContext) -> list[ParsedAttachment]:
    """The files the channel downloaded and stored with the update (envelope "files")."""
    stored = (ctx.item.envelope or {}).get("files") or []
    for problem in (ctx.item.envelope or {}).get("file_problems") or []:
        ctx.problems.append(problem)
    return [ParsedAttachment(f["filename"], f["content_type"], f["size"], f["sha256"],
                             content=ctx.runtime.blobs.get(f["sha256"])) for f in stored]


def _tell_agents(ctx: ChatContext, ticket: Ticket, message: Message, author: str) -> list[OutboxItem]:
    """Each agent of the account gets the message by mail; a reply to it answers in the chat."""
    subject, text = chat_message_notice(ticket, author, message.text, len(message.attachments))
    return [queue_mail(ctx.session, ctx.runtime, ticket, agent, kind=CHAT_COPY_KIND, subject=subject, text=text,
                       message_id=message.id)
            for agent in agent_participants(ctx.session, ctx.runtime.config, ticket)]


# --- team chats ----------------------------------------------------------------


def _agent_email(ctx: ChatContext, ticket: Ticket) -> str | None:
    """The tapping or writing Telegram user as an agent of the ticket's account, else None.

    Mapped by `telegram.agents`, an agent's own `telegram` id in config, or a `/link` code.
    """
    user_id = ctx.update.user_id or 0
    email = ctx.telegram.agents.get(user_id)
    if email and agent_by_email(ctx.session, ticket.account_id, email.lower()) is not None:
        return email.lower()
    agent = agent_by_telegram_id(ctx.session, ticket.account_id, user_id)
    return agent.email if agent is not None and agent.email else None


def _team_message(ctx: ChatContext) -> None:
    """A reply to one of the bot's posts in a group: a comment on its ticket (`/note` makes it internal)."""
    update = ctx.update
    post = ctx.session.scalar(select(TelegramPost).where(
        TelegramPost.chat_id == update.chat_id, TelegramPost.message_id == update.reply_to_message_id))
    if post is None:
        ctx.problems.append("a group message that answers none of the bot's posts; ignored")
        return
    ticket = ctx.session.get(Ticket, post.ticket_id)
    email = _agent_email(ctx, ticket)
    if email is None:
        ctx.problems.append(f"Telegram user {update.user_id} is no agent of {ticket.ref}'s account; comment ignored")
        return
    internal = update.command == "note"
    message = _store(ctx, ticket, update.user_name, "internal" if internal else "public", email)
    if not internal:
        ctx.outbox += relay_to_requester_side(ctx.session, ctx.runtime, ticket, message, hops=0)
        ctx.outbox += mirror(ctx.session, ctx.runtime, message, hops=0)


def _tap(ctx: ChatContext) -> None:
    update = ctx.update
    action, _, rest = update.callback_data.partition(":")
    done = _apply_tap(ctx, action, rest)
    ctx.outbox.append(queue_tap_answer(ctx.session, update.callback_id or "", done.answer))
    if done.buttons is not None and update.chat_id is not None and update.message_id is not None:
        ctx.outbox.append(queue_post_edit(ctx.session, update.chat_id, update.message_id,
                                          f"{update.tapped_text}\n\n✓ {done.answer}", buttons=done.buttons))


@dataclass(frozen=True)
class TapDone:
    """What a tap did: the answer for whoever tapped, and the post's buttons from now on (None: unchanged)."""

    answer: str
    buttons: Buttons | None = None


def _apply_tap(ctx: ChatContext, action: str, rest: str) -> TapDone:
    """Apply a button."""
    if action in ("take", "resolve") and rest.isdigit():
        ticket = ctx.session.get(Ticket, int(rest))
        return _on_ticket(ctx, action, ticket) if ticket is not None else TapDone("This ticket no longer exists.")
    link_id, _, stars = rest.partition(":")
    if action == "rate" and link_id.isdigit() and stars in {str(n) for n in RATINGS}:
        link = ctx.session.get(Link, int(link_id))
        return _rate(ctx, link, int(stars)) if link is not None else TapDone("This handoff no longer exists.")
    ctx.problems.append(f"unknown button {ctx.update.callback_data!r}")
    return TapDone("This button is no longer valid.")


def _on_ticket(ctx: ChatContext, action: str, ticket: Ticket) -> TapDone:
    email = _tapping_agent(ctx, ticket)
    if email is None:
        return TapDone(NOT_AN_AGENT)
    who = _agent_name(ctx, ticket, email)
    if action == "take":
        ticket.assignee = email
        add_event(ctx.session, ticket, "assigned", to=email, by=email)
        return TapDone(f"{ticket.ref} taken by {who}.", buttons=[[("Resolve", f"resolve:{ticket.id}")]])
    if ticket.status in FINISHED:
        return TapDone(f"{ticket.ref} is already {ticket.status}.")
    change_status(ctx.session, ticket, "resolved", by=email)
    ctx.outbox += status_propagation.after_status_change(ctx.session, ctx.runtime, ticket, email, hops=0)
    return TapDone(f"{ticket.ref} resolved by {who}.", buttons=[])


def _rate(ctx: ChatContext, link: Link, stars: int) -> TapDone:
    email = _tapping_agent(ctx, link.parent)
    if email is None:
        return TapDone(NOT_AN_AGENT)
    if link.state not in (links.RESOLVED, links.RATED):
        return TapDone(f"{link.child.ref} is not resolved yet.")
    links.rate(ctx.session, link, stars, None, actor=email)
    return TapDone(f"{link.child.ref} rated {stars} of 5 by {_agent_name(ctx, link.parent, email)}.", buttons=[])


def _agent_name(ctx: ChatContext, ticket: Ticket, email: str) -> str:
    agent = agent_by_email(ctx.session, ticket.account_id, email)
    return agent.name if agent is not None and agent.name else email


def _tapping_agent(ctx: ChatContext, ticket: Ticket) -> str | None:
    email = _agent_email(ctx, ticket)
    if email is None:
        ctx.problems.append(f"Telegram user {ctx.update.user_id} is no agent of {ticket.ref}'s account; tap ignored")
    return email

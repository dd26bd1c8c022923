"""A customer's private chat with the bot: `/start <account>`, commands, and messages for their ticket.

Each text, photo or document is a message on the customer's ticket: the
ticket of the bot post they replied to, else their latest unfinished
ticket, else a new one (`/new` forces a new one).  The account's agents get
each message by mail, so replying from their mail client answers in the
chat (the pipeline's `relay_agent_reply`), and the account's team chat gets
it as a post.
"""

from __future__ import annotations

from sqlalchemy import select

from bots import rate_limit as chat_rate_limit
from bots.chat_context import ChatContext
from bots.team import link_agent
from gateway.desk.participants import add_participant
from gateway.desk.tickets import FINISHED, change_status, open_ticket
from gateway.flows.mirroring import agent_participants, mirror
from gateway.outbound.notices import chat_message_notice
from gateway.outbound.outbox import queue_mail
from gateway.outbound.team_chat import announce_ticket, post_to_team
from parsers.message import Address
from parsers.telegram import TelegramUpdate
from storage.channel_models import TelegramChat, TelegramPost
from storage.models import Account, Message, OutboxItem, Participant, Ticket
from storage.repositories import account_by_slug

# The customer's chat message copied to the agents' mail; answering it is a public reply (a notice's answer is not).
CHAT_COPY_KIND = "chat_copy"
SUBJECT_CHARS = 80


def customer_message(ctx: ChatContext) -> None:
    """A private chat's message: a command, or text and files for the customer's ticket."""
    update = ctx.update
    if update.command == "start":
        _start(ctx)
        return
    if update.command == "link":
        link_agent(ctx)
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
    limit = ctx.telegram.max_messages_per_chat_per_hour
    quiet = chat_rate_limit.over_limit(ctx.session, ctx.item, limit)
    fresh = chat.wants_new_ticket and not quiet
    ticket = None if fresh else (_replied_ticket(ctx, account) or _latest_ticket(ctx, account))
    chat.wants_new_ticket = False
    new = ticket is None
    if new:
        ticket = open_ticket(ctx.session, account, _subject(update), by=f"telegram:{update.user_id}")
    requester = _chat_participant(ctx, ticket)
    message = ctx.store(ticket, Address(requester.name, ""))
    if not new and ticket.status == "resolved":
        change_status(ctx.session, ticket, "open", by=f"telegram:{update.user_id}")
    if quiet:
        _hold_back(ctx, ticket, limit)
        return
    if new:
        ctx.say(f"Thank you, we have your request: {ticket.ref} — {ticket.subject}. "
                "Replies to our messages here go to this request.", ticket)
        ctx.outbox += announce_ticket(ctx.session, ctx.runtime, ticket, f"New request {ticket.ref} via Telegram",
                                      f"{requester.name}: {message.text}", message.attachments)
    else:
        ctx.outbox += post_to_team(ctx.session, ctx.runtime, ticket, f"{ticket.ref} · {requester.name}:\n{message.text}",
                                   message.attachments)
    ctx.outbox += _tell_agents(ctx, ticket, message, requester.name)
    ctx.outbox += mirror(ctx.session, ctx.runtime, message, hops=0)


def _hold_back(ctx: ChatContext, ticket: Ticket, limit: int) -> None:
    """Over the chat's hourly limit: the message stays on the ticket, nobody is told; the customer once an hour."""
    ctx.problems.append(f"more than {limit} messages from this chat within an hour: kept on {ticket.ref}, nobody told")
    if not chat_rate_limit.told_to_slow_down(ctx.session, ctx.update.chat_id):
        ctx.say(f"You have sent us many messages within the hour. They are all kept on {ticket.ref}; "
                "we will read them, please wait for our answer.", ticket, kind=chat_rate_limit.SLOW_DOWN_KIND)


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


def _tell_agents(ctx: ChatContext, ticket: Ticket, message: Message, author: str) -> list[OutboxItem]:
    """Each agent of the account gets the message by mail; a reply to it answers in the chat."""
    subject, text = chat_message_notice(ticket, author, message.text, len(message.attachments))
    return [queue_mail(ctx.session, ctx.runtime, ticket, agent, kind=CHAT_COPY_KIND, subject=subject, text=text,
                       message_id=message.id)
            for agent in agent_participants(ctx.session, ctx.runtime.config, ticket)]

"""An account's team chat: agents tap the buttons of the bot's posts or reply to them to comment.

Buttons take, resolve or rate (gateway/team_chat.py posts them); a reply to
a post is a comment on its ticket, public or, with `/note`, internal.  The
Telegram user must be an agent of the ticket's account: mapped by
`telegram.agents`, by the agent's own `telegram` id in config, or linked
with a one-time code (`/link CODE` in a private chat).  An agent needs no
mailbox: a contractor can work a child ticket from Telegram alone.  Taps
and comments from anyone else change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from bots.chat_context import ChatContext
from bots.linking import agent_by_telegram_id, agent_for_code
from gateway.desk import links
from gateway.desk.tickets import FINISHED, add_event, change_status
from gateway.flows import status_propagation
from gateway.flows.agent_messages import share_agent_message
from gateway.outbound.chat_outbox import Buttons, queue_post_edit, queue_tap_answer
from gateway.outbound.team_chat import RATINGS
from parsers.message import Address
from storage.channel_models import TelegramPost
from storage.models import Agent, Link, Ticket, utcnow
from storage.repositories import agent_by_email

NOT_AN_AGENT = "Only the team's agents can do this."


@dataclass(frozen=True)
class TapDone:
    """What a tap did: the answer for whoever tapped, and the post's buttons from now on (None: unchanged)."""

    answer: str
    buttons: Buttons | None = None


def team_message(ctx: ChatContext) -> None:
    """A reply to one of the bot's posts in a group: a comment on its ticket (`/note` makes it internal)."""
    update = ctx.update
    post = ctx.session.scalar(select(TelegramPost).where(
        TelegramPost.chat_id == update.chat_id, TelegramPost.message_id == update.reply_to_message_id))
    if post is None:
        ctx.problems.append("a group message that answers none of the bot's posts; ignored")
        return
    ticket = ctx.session.get(Ticket, post.ticket_id)
    agent = _acting_agent(ctx, ticket, "comment")
    if agent is None:
        return
    internal = update.command == "note"
    message = ctx.store(ticket, Address(update.user_name or agent.name, agent.email or ""),
                        "internal" if internal else "public", agent)
    if not internal:
        ctx.outbox += share_agent_message(ctx.session, ctx.runtime, ticket, message)


def tap(ctx: ChatContext) -> None:
    """A button of a bot post: apply it, answer the tap, and edit the post to say what was done."""
    update = ctx.update
    action, _, rest = update.callback_data.partition(":")
    done = _apply_tap(ctx, action, rest)
    ctx.outbox.append(queue_tap_answer(ctx.session, update.callback_id or "", done.answer))
    if done.buttons is not None and update.chat_id is not None and update.message_id is not None:
        ctx.outbox.append(queue_post_edit(ctx.session, update.chat_id, update.message_id,
                                          f"{update.tapped_text}\n\n✓ {done.answer}", buttons=done.buttons))


def link_agent(ctx: ChatContext) -> None:
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


def _actor(agent: Agent) -> str:
    """How an agent's actions are recorded (assignee, events): the email, or the name of a Telegram-only agent."""
    return agent.email or agent.name


def _apply_tap(ctx: ChatContext, action: str, rest: str) -> TapDone:
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
    agent = _acting_agent(ctx, ticket, "tap")
    if agent is None:
        return TapDone(NOT_AN_AGENT)
    by = _actor(agent)
    if action == "take":
        ticket.assignee = by
        add_event(ctx.session, ticket, "assigned", to=by, by=by)
        return TapDone(f"{ticket.ref} taken by {agent.name}.", buttons=[[("Resolve", f"resolve:{ticket.id}")]])
    if ticket.status in FINISHED:
        return TapDone(f"{ticket.ref} is already {ticket.status}.")
    change_status(ctx.session, ticket, "resolved", by=by)
    ctx.outbox += status_propagation.after_status_change(ctx.session, ctx.runtime, ticket, by, hops=0)
    return TapDone(f"{ticket.ref} resolved by {agent.name}.", buttons=[])


def _rate(ctx: ChatContext, link: Link, stars: int) -> TapDone:
    agent = _acting_agent(ctx, link.parent, "tap")
    if agent is None:
        return TapDone(NOT_AN_AGENT)
    if link.state not in (links.RESOLVED, links.RATED):
        return TapDone(f"{link.child.ref} is not resolved yet.")
    links.rate(ctx.session, link, stars, None, actor=_actor(agent))
    return TapDone(f"{link.child.ref} rated {stars} of 5 by {agent.name}.", buttons=[])


def _acting_agent(ctx: ChatContext, ticket: Ticket, what: str) -> Agent | None:
    """The Telegram user as an agent of the ticket's account; else None, with the ignored `what` noted."""
    user_id = ctx.update.user_id or 0
    email = ctx.telegram.agents.get(user_id)
    agent = agent_by_email(ctx.session, ticket.account_id, email.lower()) if email else None
    agent = agent or agent_by_telegram_id(ctx.session, ticket.account_id, user_id)
    if agent is None:
        ctx.problems.append(f"Telegram user {user_id} is no agent of {ticket.ref}'s account; {what} ignored")
    return agent

"""Apply one Telegram update (already parsed) in the pipeline's transaction.

A private chat is a customer writing to the bot (gateway/telegram_customers.py);
a group is an account's team chat, where agents reply to the bot's posts,
and a button tap comes from a post (gateway/telegram_team.py).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from bots.chat_context import ChatContext
from bots.customers import customer_message
from bots.team import tap, team_message
from gateway.core.runtime import Runtime
from gateway.pipeline.context import Applied, ChannelApplier
from parsers.telegram import TelegramUpdate, parse_update
from storage.models import InboxItem


def apply_update(runtime: Runtime, session: Session, item: InboxItem, update: TelegramUpdate) -> ChatContext:
    """Apply one update; the pipeline holds its chat's sequence, so two of one chat never interleave."""
    ctx = ChatContext(runtime, session, item, update)
    ctx.problems.extend(update.problems)
    if runtime.config.telegram is None:
        ctx.problems.append("a Telegram update, but the config has no [telegram] section")
    elif update.kind == "callback":
        tap(ctx)
    elif update.kind == "message" and update.chat_type == "private":
        customer_message(ctx)
    elif update.kind == "message":
        team_message(ctx)
    return ctx


def _apply(runtime: Runtime, session: Session, item: InboxItem, update: TelegramUpdate) -> Applied:
    ctx = apply_update(runtime, session, item, update)
    return Applied(ctx.problems, ctx.outbox)


# What the pipeline's runner runs for a Telegram inbox item (handed to it by the application layer).
TELEGRAM_APPLIER = ChannelApplier(parse=parse_update, apply=_apply)

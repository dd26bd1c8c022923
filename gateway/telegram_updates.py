"""Apply one Telegram update (already parsed) in the pipeline's transaction.

A private chat is a customer writing to the bot (gateway/telegram_customers.py);
a group is an account's team chat, where agents reply to the bot's posts,
and a button tap comes from a post (gateway/telegram_team.py).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from gateway.chat_context import ChatContext
from gateway.runtime import Runtime
from gateway.telegram_customers import customer_message
from gateway.telegram_team import tap, team_message
from parsers.telegram import TelegramUpdate
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

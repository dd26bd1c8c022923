"""Link a Telegram user to an agent with a one-time code, for agents config does not map.

`relaydesk telegram-code EMAIL` prints a code; the agent sends `/link CODE`
to the bot in a private chat.  The code is an HMAC of the agent, the
Telegram id they are linked to now and the day it was made: it is good that
day and the next, and spent once used (the linked id changes with it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Agent

VALID_DAYS = 2
CODE_CHARS = 10


def link_code(secret: str, agent: Agent, day: date) -> str:
    """The code that links `agent` to whoever sends it on `day` or the day after."""
    message = f"telegram-link:{agent.id}:{agent.telegram_id or 0}:{day.isoformat()}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b32encode(digest).decode()[:CODE_CHARS]


def agent_for_code(session: Session, secret: str, code: str, today: date) -> Agent | None:
    """The agent this code was made for, if it is still good."""
    wanted = code.strip().upper()
    if len(wanted) != CODE_CHARS:
        return None
    for agent in session.scalars(select(Agent)):
        for age in range(VALID_DAYS):
            if hmac.compare_digest(link_code(secret, agent, today - timedelta(days=age)), wanted):
                return agent
    return None


def agent_by_telegram_id(session: Session, account_id: int, telegram_id: int) -> Agent | None:
    return session.scalar(select(Agent).where(Agent.account_id == account_id, Agent.telegram_id == telegram_id))

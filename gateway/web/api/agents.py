"""Whose name an API write goes out under: an agent of the token's account.

Mail commands act as the agent who wrote the mail; a token belongs to an
account, so a write names its agent (`agent`, an email), or acts as the
account's first agent with an email address.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.core.api_tokens import Caller
from gateway.web.api.errors import ApiError
from parsers.message import Address
from storage.models import Agent


def acting_agent(session: Session, who: Caller, email: str | None) -> Agent:
    query = select(Agent).where(Agent.account_id == who.account_id, Agent.email.is_not(None)).order_by(Agent.id)
    if email:
        query = query.where(Agent.email == email.strip().lower())
    agent = session.scalars(query.limit(1)).first()
    if agent is None:
        what = f"{email} is no agent of {who.account_slug}" if email else f"{who.account_slug} has no agent with an email"
        raise ApiError(409, "unknown_agent", what)
    return agent


def address_of(agent: Agent) -> Address:
    return Address(agent.name, agent.email or "")

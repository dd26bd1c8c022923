"""The daily digest: one mail per agent at the account's `digest_hour`, and `#digest off|on`.

Each agent who wants a digest has one pending `digest` timer at the next
local digest hour (the zone of the account's terms).  Firing it schedules
the next one first, then sends what `digest_content` finds — nothing when
there is nothing to say.  A digest missed while every process was down is
sent once at the first sweep, not once per missed day.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Row, delete, select
from sqlalchemy.orm import Session

from gateway.core.accounts import settings_for
from gateway.core.config import AccountConfig, Config
from gateway.core.runtime import Runtime
from gateway.desk.business_time import next_local_time
from gateway.desk.digest_content import digest_content, operator_content
from gateway.desk.partner_terms import zone_of
from gateway.outbound import digest_text
from gateway.outbound.account_mail import queue_account_mail
from storage.deadline_models import Timer
from storage.models import Account, Agent, OutboxItem

DIGEST = "digest"  # the timer kind and the outbox kind


def schedule_all(session: Session, config: Config, now: datetime) -> None:
    """At start: a pending digest timer for every agent who wants one, none for the others.

    A pending timer at another hour than the config's now is moved; one
    already due (missed while down) is kept, so it fires once.
    """
    for account in session.scalars(select(Account).where(Account.kind == "hosted")):
        settings = settings_for(config, account)
        for agent in account.agents:
            schedule(session, settings, agent, now)


def schedule(session: Session, settings: AccountConfig, agent: Agent, now: datetime) -> None:
    pending = session.scalars(select(Timer).where(Timer.kind == DIGEST, Timer.agent_id == agent.id,
                                                  Timer.status == "pending")).all()
    if not _wants(settings, agent):
        for timer in pending:
            session.delete(timer)
        return
    zone = zone_of(settings)
    keep = [t for t in pending if t.due_at.astimezone(zone).hour == settings.digest_hour]
    for timer in pending:
        if timer not in keep[:1]:
            session.delete(timer)
    if not keep:
        session.add(Timer(kind=DIGEST, agent_id=agent.id, due_at=next_local_time(now, settings.digest_hour, zone)))


def set_preference(session: Session, config: Config, agent: Agent, on: bool, now: datetime) -> None:
    """`#digest on` / `#digest off` from the agent."""
    agent.digest_off = not on
    session.flush()
    schedule(session, settings_for(config, agent.account), agent, now)


def send_digest(session: Session, runtime: Runtime, timer: Row, now: datetime) -> list[OutboxItem] | None:
    """Timer handler: schedule tomorrow's digest, then send today's unless there is nothing in it."""
    agent = session.get(Agent, timer.agent_id)
    if agent is None:
        return None
    settings = settings_for(runtime.config, agent.account)
    if not _wants(settings, agent):
        return None
    session.execute(delete(Timer).where(Timer.kind == DIGEST, Timer.agent_id == agent.id,
                                        Timer.status == "pending"))
    zone = zone_of(settings)
    session.add(Timer(kind=DIGEST, agent_id=agent.id, due_at=next_local_time(now, settings.digest_hour, zone)))
    content = digest_content(session, agent.account_id, now)
    if any(a.operator and a.email == agent.email for a in settings.agents):
        content = operator_content(session, content, now)
    if content.empty:
        return None
    subject, text = digest_text.digest(content, agent.account.name, zone.key, now.astimezone(zone).date().isoformat())
    return [queue_account_mail(session, runtime, agent.account, agent.name, agent.email or "",
                               kind=DIGEST, subject=subject, text=text)]


def _wants(settings: AccountConfig, agent: Agent) -> bool:
    return settings.digest_hour is not None and bool(agent.email) and not agent.digest_off

"""Stage `digest`: an agent's `#digest off` / `#digest on` sets their daily digest, and opens no ticket."""

from __future__ import annotations

import dataclasses

from gateway.core import clock
from gateway.flows.digests import set_preference
from gateway.pipeline.context import Inbound
from gateway.pipeline.sender_auth import sender_verified
from storage import repositories

DIGEST_COMMAND = "digest"
CHOICES = {"on": True, "off": False}


def digest_preference(ctx: Inbound) -> None:
    """Apply `#digest on|off` from an agent of the receiving account and take the command out of the mail.

    A mail that belongs to no ticket is done then (a settings mail, not a
    request).  From anyone else the line stays, and the commands step treats
    it as it treats any command it does not allow.
    """
    commands = [c for c in ctx.parsed.commands if c.name == DIGEST_COMMAND]
    if not commands or ctx.is_auto or ctx.account is None or ctx.sender_email is None:
        return
    agent = repositories.agent_by_email(ctx.session, ctx.account.id, ctx.sender_email)
    choice = (commands[-1].args[0].lower() if commands[-1].args else "")
    if agent is None or choice not in CHOICES or not sender_verified(ctx.parsed, ctx.runtime.config.security):
        return
    set_preference(ctx.session, ctx.runtime.config, agent, CHOICES[choice], clock.now())
    ctx.problems.append(f"daily digest {choice} for {agent.email}")
    ctx.parsed = dataclasses.replace(ctx.parsed, commands=tuple(c for c in ctx.parsed.commands
                                                                if c.name != DIGEST_COMMAND))
    if ctx.ticket is None:
        ctx.handled = True

"""What the sender of a mail may do on a ticket: the account's agents everything, the partner side its status.

Shared by the commands stage and the federation stage (another relaydesk's
status headers count only from the executor side).
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.desk.partner_side import is_executor
from gateway.pipeline.context import Inbound
from gateway.pipeline.sender_auth import sender_verified
from storage import repositories
from storage.models import Ticket

# Commands the partner side of a child ticket may use on it (besides its agents).
EXECUTOR_COMMANDS = frozenset({"status"})


@dataclass(frozen=True)
class Authority:
    """What the sender may do on the ticket; `verified` is False when a required DKIM/SPF pass is missing."""

    agent: bool
    executor: bool
    verified: bool = True

    def allows(self, name: str) -> bool:
        return self.verified and (self.agent or (self.executor and name in EXECUTOR_COMMANDS))

    @property
    def any(self) -> bool:
        return self.agent or self.executor


def authority(ctx: Inbound, ticket: Ticket) -> Authority:
    config = ctx.runtime.config
    email = ctx.sender_email
    agent = bool(email) and repositories.agent_by_email(ctx.session, ticket.account_id, email) is not None
    executor = not agent and is_executor(config, ticket, email, ticket.participants)
    return Authority(agent=agent, executor=executor, verified=sender_verified(ctx.parsed, config.security))

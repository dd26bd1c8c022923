"""Stage `answer`: what leaves because of the stored mail — relays, the acknowledgement, the team chat post.

Mirroring along the chain is its own stage (`mirror`), just before these.
"""

from __future__ import annotations

from datetime import timedelta

from gateway.flows.relays import relay_to_requester_side
from gateway.outbound.notices import acknowledgement
from gateway.outbound.outbox import queue_mail
from gateway.outbound.team_chat import announce_ticket
from gateway.pipeline.context import Inbound
from storage.models import utcnow
from storage.repositories import (
    agent_by_email,
    all_account_addresses,
    outbox_count_since,
)


def relay_agent_reply(ctx: Inbound) -> None:
    """An agent's public mail on a root ticket reaches the requester side (gateway/flows/relays.py)."""
    message = ctx.message
    if (message is None or ctx.new_ticket or ctx.sender_role != "agent" or message.visibility != "public"
            or message.unverified):
        return
    ctx.outbox += relay_to_requester_side(ctx.session, ctx.runtime, ctx.ticket, message, ctx.hops)


def acknowledge(ctx: Inbound) -> None:
    """One acknowledgement to a new ticket's requester (RFC 3834 manners).

    Never to automatic mail, our own addresses or the account's agents, and
    at most one per sender and account per `outbound.ack_period_seconds`.
    """
    if not ctx.new_ticket or not ctx.account_config.send_acknowledgement or ctx.is_auto:
        return
    requester, email = ctx.participant, ctx.sender_email
    if requester is None or not email or requester.role != "requester":
        return
    if email in all_account_addresses(ctx.session) or agent_by_email(ctx.session, ctx.ticket.account_id, email):
        return
    since = utcnow() - timedelta(seconds=ctx.runtime.config.outbound.ack_period_seconds)
    # Concurrent first mails to one account serialise on its numbering row, so this count is current.
    if outbox_count_since(ctx.session, email, "ack", since, account_id=ctx.ticket.account_id):
        ctx.problems.append(f"acknowledgement to {email} suppressed: one was sent within the period")
        return
    subject, text = acknowledgement(ctx.ticket, ctx.account)
    ctx.outbox.append(
        queue_mail(ctx.session, ctx.runtime, ctx.ticket, requester, kind="ack", text=text, subject=subject,
                   auto=True, inbound_hops=ctx.hops)
    )


def announce_new_ticket(ctx: Inbound) -> None:
    """A new ticket appears in the account's Telegram team chat, if it has one (with Take / Resolve)."""
    if ctx.new_ticket and not ctx.is_auto and ctx.message is not None:
        sender = ctx.parsed.sender
        who = f"{sender.name} <{sender.email}>" if sender and sender.name else (ctx.sender_email or "unknown sender")
        ctx.outbox += announce_ticket(ctx.session, ctx.runtime, ctx.ticket, f"New request {ctx.ticket.ref} from {who}",
                                      ctx.message.text, ctx.message.attachments)

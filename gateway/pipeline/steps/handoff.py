"""The pipeline step that turns a dispatcher's forward or `#handoff` into a handoff.

It runs after threading and before a new ticket would be opened, so a
forward delivered only to a hosted partner's own address becomes the one
handoff of the dispatcher's ticket instead of a customer ticket in the
partner's account.
"""

from __future__ import annotations

from gateway.core.accounts import settings_for
from gateway.flows.handoff import REPEATED, HandoffSource, hand_off
from gateway.flows.handoff_detection import HANDOFF_COMMAND, detect_handoff
from gateway.flows.rejections import Rejection
from gateway.pipeline.context import Inbound
from gateway.pipeline.fingerprints import profiles
from gateway.pipeline.sender_auth import sender_verified
from gateway.pipeline.thread_match import ThreadQuery, find_thread
from storage import repositories
from storage.models import Account, Ticket


def handoff_step(ctx: Inbound) -> None:
    """Pipeline step (after threading, before a new ticket would be opened).

    When an agent's forward or `#handoff` hands a ticket of their account to
    a partner, the mail becomes that handoff: the child is opened, and the
    mail itself is kept on the parent as an internal note — even when it was
    delivered to a hosted partner's own address, where it would otherwise
    have opened a customer ticket.
    """
    parsed = ctx.parsed
    wants = parsed.forward is not None or any(c.name == HANDOFF_COMMAND for c in parsed.commands)
    if not wants or ctx.is_auto or ctx.sender_email is None:
        return
    found = _senders_ticket(ctx)
    if found is None:
        return
    if not sender_verified(parsed, ctx.runtime.config.security):
        ctx.problems.append("not handed off: no DKIM/SPF pass for the sender's domain from a trusted MTA")
        return
    owner, parent = found
    config = ctx.runtime.config
    owner_config = settings_for(config, owner)
    participants = [p.email for p in parent.participants if p.email]
    try:
        intent = detect_handoff(parsed, owner_config, config, ctx.recipients, participants)
    except Rejection:
        _adopt(ctx, owner, parent)  # the commands step refuses the #handoff and answers the sender
        return
    if intent is None:
        return
    source = HandoffSource(parsed=parsed, dispatcher=parsed.sender, source_key=f"inbox:{ctx.item.id}",
                           channel=ctx.item.channel, inbox_item_id=ctx.item.id, raw_sha256=ctx.item.raw_sha256)
    result = hand_off(ctx.session, ctx.runtime, parent, intent, source)
    _adopt(ctx, owner, parent)
    ctx.link = result.link
    ctx.outbox += result.outbox
    if result.outcome == REPEATED:
        ctx.problems.append(f"handoff {result.link.parent.ref} → {result.link.child.ref} already made; not repeated")


def _senders_ticket(ctx: Inbound) -> tuple[Account, Ticket] | None:
    """The sender's own account and the ticket of it this mail threads to.

    Usually the receiving account; but a dispatcher's forward delivered only
    to a hosted partner's address is threaded again within the dispatcher's
    account.
    """
    email = ctx.sender_email
    if repositories.agent_by_email(ctx.session, ctx.account.id, email) is not None:
        ticket = ctx.ticket
        if ticket is None or ticket.account_id != ctx.account.id:
            return None  # nothing to hand on, or a ticket kept for an external partner (not ours to hand on)
        return ctx.account, ticket
    config = ctx.runtime.config
    for spec in config.accounts:
        if spec.kind != "hosted" or ctx.account.slug not in spec.partners:
            continue
        if not any(agent.email == email for agent in spec.agents):
            continue
        owner = repositories.account_by_slug(ctx.session, spec.slug)
        match = find_thread(ThreadQuery(
            session=ctx.session, secret=config.security.secret, account=owner, parsed=ctx.parsed,
            recipients=ctx.recipients, fingerprints=profiles(config.fingerprints),
        ))
        if match.ticket is not None:
            return owner, match.ticket
    return None


def _adopt(ctx: Inbound, owner: Account, parent: Ticket) -> None:
    """The mail belongs to the parent, from one of its agents, as an internal note."""
    ctx.account, ctx.account_config = owner, settings_for(ctx.runtime.config, owner)
    ctx.ticket, ctx.related = parent, None
    ctx.sender_role, ctx.visibility, ctx.unverified = "agent", "internal", False

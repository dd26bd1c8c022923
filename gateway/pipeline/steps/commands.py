"""`#status`, `#internal`, `#recall`, `#rate`, `#assign`, `#asset`, `#approve` by mail (SPEC §6).

Commands come from the lines at the top of the new text (`parsed.commands`).
Only agents of the ticket's account may use them; the partner side of a
child (an external partner's address) may set its status.  All commands of
a mail are checked first and applied only if every one is valid, so a typo
in the second line never leaves the first half-applied.  A refused mail is
kept as an internal note flagged with the reason, and its sender gets one
error reply (rate-limited, never to machines) through `rejections`.

`#handoff` is acted on by the handoff step before a ticket is chosen; it
only reaches this module when that step did not apply it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from gateway.core.accounts import settings_for
from gateway.desk import links
from gateway.desk.tickets import add_event
from gateway.flows import agent_actions
from gateway.flows.handoff_detection import detect_handoff
from gateway.flows.ratings import link_to_rate, parse_rating
from gateway.flows.rejections import (
    NotAuthorised,
    NoTicketToHandOff,
    Rejection,
    SenderNotVerified,
    UnknownCommand,
    queue_rejection,
)
from gateway.pipeline.authority import authority
from gateway.pipeline.context import Inbound
from parsers.message import Command
from storage.models import OutboxItem

Action = Callable[[], list[OutboxItem]]


def commands_step(ctx: Inbound) -> None:
    """Pipeline step (after the ticket is known, before storing): check, then apply every command."""
    commands = [c for c in ctx.parsed.commands if not (c.name == "handoff" and ctx.link is not None)]
    if not commands or ctx.is_auto or ctx.ticket is None:
        return
    if ctx.new_ticket and not authority(ctx, ctx.ticket).any:
        _keep_as_words(ctx)
        return
    try:
        actions = [_prepare(ctx, command) for command in commands]
    except Rejection as error:
        _refuse(ctx, error)
        return
    for action in actions:
        ctx.outbox += action()
    if not ctx.parsed.text.strip():
        ctx.visibility = "internal"  # a control mail: nothing in it for the other side


def _prepare(ctx: Inbound, command: Command) -> Action:
    """Check one command and return what applying it does; raises a Rejection."""
    handler = _HANDLERS.get(command.name)
    if handler is None:
        raise UnknownCommand(f"#{command.name}")
    sender = authority(ctx, ctx.ticket)
    if not sender.allows(command.name):
        raise (SenderNotVerified if sender.any and not sender.verified else NotAuthorised)(f"#{command.name}")
    return handler(ctx, command)


def _status(ctx: Inbound, command: Command) -> Action:
    ticket = ctx.ticket
    target = agent_actions.check_status(ticket, command.args[0] if command.args else "")

    def apply() -> list[OutboxItem]:
        public = not any(c.name == "internal" for c in ctx.parsed.commands)
        return agent_actions.set_status(ctx.session, ctx.runtime, ticket, target, ctx.sender_email, ctx.hops,
                                        last_word=ctx.parsed.text if public else "")
    return apply


def _internal(ctx: Inbound, command: Command) -> Action:
    def apply() -> list[OutboxItem]:
        ctx.visibility = "internal"
        return []
    return apply


def _handoff(ctx: Inbound, command: Command) -> Action:
    """Reached only when the handoff step did not apply it; say why."""
    config = ctx.runtime.config
    participants = [p.email for p in ctx.ticket.participants if p.email]
    detect_handoff(ctx.parsed, settings_for(config, ctx.ticket.account), config, ctx.recipients, participants)
    raise NoTicketToHandOff(f"this mail does not answer a ticket of your account (it opened {ctx.ticket.ref})")


def _recall(ctx: Inbound, command: Command) -> Action:
    recalled = agent_actions.links_to_recall(ctx.session, ctx.ticket, command.args)
    return lambda: agent_actions.recall(ctx.session, ctx.runtime, recalled, ctx.sender_email, ctx.hops)


def _rate(ctx: Inbound, command: Command) -> Action:
    rating, comment = parse_rating(command.args)
    link = link_to_rate(ctx.session, ctx.ticket)

    def apply() -> list[OutboxItem]:
        links.rate(ctx.session, link, rating, comment, actor=ctx.sender_email)
        return []
    return apply


def _assign(ctx: Inbound, command: Command) -> Action:
    agent = agent_actions.agent_named(ctx.runtime.config, ctx.ticket, " ".join(command.args))

    def apply() -> list[OutboxItem]:
        agent_actions.assign(ctx.session, ctx.ticket, agent, ctx.sender_email)
        return []
    return apply


def _asset(ctx: Inbound, command: Command) -> Action:
    def apply() -> list[OutboxItem]:
        agent_actions.set_asset(ctx.session, ctx.ticket, " ".join(command.args), ctx.sender_email)
        return []
    return apply


def _approve(ctx: Inbound, command: Command) -> Action:
    message = agent_actions.message_to_approve(ctx.session, ctx.ticket)
    return lambda: agent_actions.approve(ctx.session, ctx.runtime, message, ctx.sender_email, ctx.hops)


def _keep_as_words(ctx: Inbound) -> None:
    """A customer opening a ticket with a `#…` line ("#urgent printer down") wrote words, not commands.

    Their request must reach the agents as it was written, public and
    acknowledged, rather than be held back as a refused command.
    """
    lines = [" ".join((f"#{c.name}", *c.args)) for c in ctx.parsed.commands]
    text = "\n".join(lines + ([ctx.parsed.text] if ctx.parsed.text else []))
    ctx.parsed = dataclasses.replace(ctx.parsed, text=text, commands=())


def _refuse(ctx: Inbound, error: Rejection) -> None:
    """Keep the mail as a flagged internal note and answer its sender once."""
    ctx.visibility = "internal"
    ctx.problems.append(f"commands not applied: {error.reason}: {error.detail}")
    add_event(ctx.session, ctx.ticket, "command_rejected", reason=error.reason, detail=error.detail,
              by=ctx.sender_email)
    if ctx.sender_email:
        reply = queue_rejection(ctx.session, ctx.runtime, ctx.sender_email, error, ctx.parsed, ctx.ticket)
        if reply is not None:
            ctx.outbox.append(reply)


_HANDLERS: dict[str, Callable[[Inbound, Command], Action]] = {
    "status": _status,
    "internal": _internal,
    "handoff": _handoff,
    "recall": _recall,
    "rate": _rate,
    "assign": _assign,
    "asset": _asset,
    "approve": _approve,
}

"""Pipeline steps for mail written by a relaydesk (ours or another installation's; see gateway.pipeline.federation)."""

from __future__ import annotations

import dataclasses

from sqlalchemy.orm import Session

from gateway.core.tokens import split_body_markers
from gateway.desk.tickets import change_status
from gateway.flows import status_propagation
from gateway.pipeline.authority import authority
from gateway.pipeline.context import Inbound
from gateway.pipeline.federation import Speaker, apply_remote, read_remote
from storage.models import Ticket


def elide_body_markers(ctx: Inbound) -> None:
    """Pipeline step (first): body markers leave the new text for `elided`.

    Another relaydesk's update carries its marker below the text, outside
    any quote; left in, it would be stored and relayed to people up the
    chain.  Threading still finds our own markers in `elided`.
    """
    text, markers = split_body_markers(ctx.parsed.text)
    if markers:
        elided = "\n".join(filter(None, [ctx.parsed.elided, *markers]))
        ctx.parsed = dataclasses.replace(ctx.parsed, text=text, elided=elided)


def federation_step(ctx: Inbound) -> None:
    """Pipeline step (after the message is stored, before mirroring): apply another relaydesk's headers.

    Most mail carries none: it is let through before the sender's authority
    is worked out, which reads the ticket's participants.
    """
    ticket = ctx.ticket
    if ticket is None or ctx.unverified or ctx.is_auto or ctx.message is None or read_remote(ctx.parsed) is None:
        return
    if authority(ctx, ticket).executor:
        speaker: Speaker = "executor"
    elif ctx.sender_role in ("requester", "cc"):
        speaker = "requester"  # the requester side: heard for the ref, never for a status
    else:
        return

    def resolve(session: Session, ticket: Ticket, status: str, by: str) -> None:
        if change_status(session, ticket, status, by=by):
            ctx.outbox += status_propagation.after_status_change(session, ctx.runtime, ticket, by, ctx.hops,
                                                                 last_word=ctx.parsed.text)

    apply_remote(ctx.session, ticket, ctx.parsed, speaker, resolve)

"""The pipeline step that lets another relaydesk's X-Relaydesk-* headers act (see gateway.federation)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from gateway import status_propagation
from gateway.federation import Speaker, apply_remote
from gateway.mail_commands import authority
from gateway.tickets import change_status
from storage.models import Ticket

if TYPE_CHECKING:
    from gateway.pipeline import Inbound


def federation_step(ctx: Inbound) -> None:
    """Pipeline step (after the message is stored, before mirroring): apply another relaydesk's headers."""
    ticket = ctx.ticket
    if ticket is None or ctx.unverified or ctx.is_auto or ctx.message is None:
        return
    if authority(ctx, ticket).executor:
        speaker: Speaker = "executor"
    elif ctx.sender_role == "requester":
        speaker = "requester"
    else:
        return

    def resolve(session: Session, ticket: Ticket, status: str, by: str) -> None:
        if change_status(session, ticket, status, by=by):
            ctx.outbox += status_propagation.after_status_change(session, ctx.runtime, ticket, by, ctx.hops)

    apply_remote(ctx.session, ticket, ctx.parsed, speaker, resolve)

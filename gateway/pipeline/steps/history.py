"""Stage `history`: a ticket whose imported history ended long enough ago is imported as resolved."""

from __future__ import annotations

from gateway.desk.tickets import change_status
from gateway.pipeline.context import Inbound
from gateway.pipeline.history import IMPORT_ACTOR

_STILL_OPEN = ("new", "open", "pending")


def settle_history(ctx: Inbound) -> None:
    """Resolve the ticket of a past mail older than the mailbox's `resolve_history_after_days`.

    Runs last, so the mail is stored first; a later, newer mail of the
    requester reopens the ticket as any follow-up does.
    """
    history = ctx.history
    if history is None or history.resolve_before is None or ctx.ticket is None or ctx.message is None:
        return
    if history.at < history.resolve_before and ctx.ticket.status in _STILL_OPEN:
        change_status(ctx.session, ctx.ticket, "resolved", by=IMPORT_ACTOR)

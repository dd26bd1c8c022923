"""Stage `bounces`: a delivery report is recorded against our outbox and goes no further (no ticket, no reply)."""

from __future__ import annotations

import logging

from gateway.outbound.bounces import is_bounce, record_bounce
from gateway.pipeline.context import Inbound
from gateway.pipeline.inbound_store import store_inbound

log = logging.getLogger(__name__)


def handle_bounces(ctx: Inbound) -> None:
    """Before `receive`: a VERP return path is no hosted address, and a bounce never threads."""
    if not is_bounce(ctx.parsed, ctx.recipients, ctx.runtime.config):
        return
    outcome = record_bounce(ctx.session, ctx.runtime, ctx.parsed, ctx.recipients)
    if outcome.ticket is not None:
        # The report itself goes on the ticket as `auto`: agents see it; it is never mirrored or answered.
        ctx.ticket, ctx.visibility = outcome.ticket, "auto"
        store_inbound(ctx)
    ctx.outbox.extend(outcome.notices)
    ctx.problems.append(outcome.detail)
    log.info("inbox %s: %s", ctx.item.id, outcome.detail)
    ctx.handled = True

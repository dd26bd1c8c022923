"""Stage `mirror`: a stored message passes along the chain (gateway/flows/mirroring.py)."""

from __future__ import annotations

from gateway.flows.mirroring import RATING_KIND, mirror
from gateway.pipeline.context import Inbound


def mirror_step(ctx: Inbound) -> None:
    """After the message is stored: copy it up or send it down the chain, once.

    A rating request queued by this mail already quotes it to those agents,
    so they are not sent the same words twice.
    """
    if ctx.message is not None:
        told = frozenset((o.ticket_id, o.recipient) for o in ctx.outbox if o.kind == RATING_KIND)
        ctx.outbox += mirror(ctx.session, ctx.runtime, ctx.message, ctx.hops, told)

"""Stage `classify_sender`: who is writing, and so how the message is stored (SPEC §4, last paragraph)."""

from __future__ import annotations

from gateway.desk.participants import standing
from gateway.flows.mirroring import RATING_KIND, REQUESTER_SIDE
from gateway.outbound.outbox import NOTICE_KIND
from gateway.pipeline.context import Inbound
from storage.repositories import outbox_kind


def classify_sender(ctx: Inbound) -> None:
    """Decide the sender's role and how the message is stored.

    Machines' mail is `auto`.  On an existing ticket, only participants (or
    whoever replies through a valid token) write normal follow-ups; anyone
    else's mail is kept `internal` and flagged unverified.  An agent's
    forward to people outside the ticket, or answer to mail only agents got,
    is an internal note.
    """
    if ctx.ticket is None:
        ctx.sender_role = "requester"
    else:
        ctx.sender_role, ctx.participant = standing(ctx.session, ctx.ticket, ctx.sender_email)
        if ctx.sender_role is None and ctx.match.rule == "token":
            ctx.sender_role = ctx.match.participant.role
    if ctx.is_auto:
        ctx.visibility = "auto"
    elif ctx.sender_role is None:
        ctx.visibility, ctx.unverified = "internal", True
    elif ctx.sender_role == "agent" and (_forwarded_past_the_requester(ctx) or _answers_agents_only_mail(ctx)):
        ctx.visibility = "internal"


def _answers_agents_only_mail(ctx: Inbound) -> bool:
    """An agent answered a notice or rating request, which only agents got: a note among them."""
    answered = ctx.parsed.in_reply_to
    return bool(answered) and outbox_kind(ctx.session, ctx.ticket.id, answered) in (NOTICE_KIND, RATING_KIND)


def _forwarded_past_the_requester(ctx: Inbound) -> bool:
    """An agent forwarded the ticket to someone else (a colleague, the customer's manager).

    That mail was written to them, not to the requester: it is kept as a
    note and never relayed.  A handoff is decided later and is a note too.
    """
    if ctx.parsed.forward is None:
        return False
    addressed = {a.email for a in (*ctx.parsed.to, *ctx.parsed.cc)}
    return not any(p.role in REQUESTER_SIDE and p.email in addressed for p in ctx.ticket.participants)

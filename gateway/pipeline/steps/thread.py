"""Stage `thread`: which ticket of the receiving account the mail belongs to (SPEC §4)."""

from __future__ import annotations

from gateway.desk.tickets import FINISHED
from gateway.pipeline.context import Inbound, header_recipients
from gateway.pipeline.fingerprints import profiles
from gateway.pipeline.thread_match import ThreadQuery, find_thread


def thread(ctx: Inbound) -> None:
    """Apply the threading rules (gateway/pipeline/thread_match.py) within the receiving account."""
    config = ctx.runtime.config
    ctx.match = find_thread(
        ThreadQuery(
            session=ctx.session,
            secret=config.security.secret,
            account=ctx.account,
            parsed=ctx.parsed,
            recipients=ctx.recipients + header_recipients(ctx.parsed),
            fingerprints=profiles(config.fingerprints),
        )
    )
    ctx.ticket = ctx.match.ticket
    if ctx.ticket is not None and ctx.match.external_id and not ctx.ticket.external_id:
        ctx.ticket.external_id = ctx.match.external_id


def follow_up_finished(ctx: Inbound) -> None:
    """The requester side writing to a closed/cancelled ticket opens a new, linked one (or reopens it by setting).

    Agents and partners writing to a finished ticket stay on it (a late note).
    """
    ticket = ctx.ticket
    if ticket is None or ticket.status not in FINISHED or ctx.is_auto or ctx.sender_role not in ("requester", "cc"):
        return
    if ticket.status == "closed" and ctx.account_config.followup_to_closed == "reopen":
        return
    ctx.related, ctx.ticket = ticket, None
    ctx.sender_role = "requester"

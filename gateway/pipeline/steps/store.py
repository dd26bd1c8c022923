"""Stage `store`: open a ticket when the mail threads nowhere, keep the message, apply its status effects."""

from __future__ import annotations

from gateway.desk.participants import add_participant
from gateway.desk.tickets import change_status, open_ticket
from gateway.flows.agent_messages import record_agent_reply
from gateway.pipeline.context import Held, Inbound
from gateway.pipeline.inbound_store import add_copied_contacts, store_inbound
from storage.imap_repositories import imap_first_sync_pending, imap_items_waiting


def skip_unthreaded_sent(ctx: Inbound) -> None:
    """Mail from an agent's Sent folder only ever adds to tickets: it never opens one.

    The folder also holds the agent's private and everyday mail; what belongs
    to a ticket (a reply, a forward to a partner) has been threaded or handed
    off by now — unless the mail it answers or forwards is not applied yet:
    during a mailbox's first sync, and while mail of its other folders waits
    to be applied, the Sent mail is held (kept pending, tried again by the
    sweeper), so the order in which folders and workers go does not matter.
    """
    imap = (ctx.item.envelope or {}).get("imap") or {}
    if ctx.ticket is not None or imap.get("role") != "sent":
        return
    folders = imap.get("inbox_folders") or []
    if folders and imap_first_sync_pending(ctx.session, imap["mailbox"], folders):
        raise Held("a Sent mail that threads nowhere yet, during the mailbox's first sync")
    if folders and imap_items_waiting(ctx.session, imap["mailbox"], folders, ctx.item.id):
        raise Held("a Sent mail that threads nowhere yet, while the mailbox's other mail waits to be applied")
    ctx.problems.append("mail from a Sent folder that belongs to no ticket; kept in the inbox only")
    ctx.handled = True


def open_new_ticket(ctx: Inbound) -> None:
    """Open a ticket for a mail that threads nowhere.

    Machine replies (out-of-office, bounces, loops) never open one.  List mail
    does, stored `auto` and unanswered: a customer's team address is often a
    mailing list, and losing their request would be worse than a stray ticket.
    """
    if ctx.ticket is not None:
        return
    if ctx.is_auto and ctx.parsed.kind != "list":
        ctx.problems.append(f"{ctx.parsed.kind} mail matched no ticket; kept in the inbox only")
        ctx.handled = True
        return
    ctx.ticket = open_ticket(
        ctx.session,
        ctx.account,
        ctx.parsed.subject,
        external_id=ctx.match.external_id if ctx.match else None,
        related_ticket_id=ctx.related.id if ctx.related else None,
        by=ctx.sender_email,
    )
    ctx.new_ticket = True
    if ctx.parsed.sender is not None:
        ctx.participant = add_participant(ctx.session, ctx.ticket, "requester", ctx.parsed.sender)
    add_copied_contacts(ctx)


def store_message(ctx: Inbound) -> None:
    """Store the message with its files; the requester's new Cc's become participants."""
    store_inbound(ctx)
    if not ctx.new_ticket and ctx.sender_role == "requester" and ctx.visibility == "public":
        add_copied_contacts(ctx)


def apply_follow_up(ctx: Inbound) -> None:
    """Status effects of a verified follow-up: the requester reopens; an agent's first reply is timed."""
    ticket = ctx.ticket
    if ctx.new_ticket or ctx.is_auto or ctx.unverified:
        return
    if ctx.sender_role == "requester" and ticket.status in ("pending", "resolved", "closed"):
        change_status(ctx.session, ticket, "open", by=ctx.sender_email)
    elif ctx.sender_role == "agent" and ctx.visibility == "public":
        record_agent_reply(ctx.session, ticket, ctx.sender_email, ctx.message)

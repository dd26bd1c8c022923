"""Open the child ticket of a handoff, link it, and tell the partner.

Detection (is it a handoff, to whom) lives in `handoff_detection`; this
module acts on a detected handoff inside the pipeline's transaction.  The
child carries what the partner needs — the parent's subject, asset,
description and files (by reference to the same blobs), the customer's
contact unless the handing account hides it — and the dispatcher's note as
its first message.  The same handoff seen twice (SMTP Cc and IMAP Sent, a
replay, a second forward to the same partner) never opens a second child.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from gateway import chain_notices, links, outbox
from gateway.compose import FileRef
from gateway.config import AccountConfig, Config
from gateway.fingerprints import profiles
from gateway.handoff_detection import HANDOFF_COMMAND, HandoffIntent, account_matches, detect_handoff
from gateway.loop_guard import hop_count
from gateway.participants import add_participant
from gateway.rejections import Rejection
from gateway.runtime import Runtime
from gateway.threading import ThreadQuery, find_thread
from gateway.tickets import NewMessage, add_message, change_status, open_ticket
from parsers.message import Address, ParsedMessage
from storage import repositories
from storage.models import Account, Attachment, Link, Message, OutboxItem, Participant, Ticket

if TYPE_CHECKING:
    from gateway.pipeline import Inbound

EXECUTOR_ROLE = "agent"
CONTACT_ROLE = "contact"
REQUEST_KEY = "request:"


@dataclass(frozen=True)
class HandoffSource:
    """The inbound mail that asked for the handoff, as the pipeline stores it."""

    parsed: ParsedMessage
    dispatcher: Address
    source_key: str
    channel: str
    inbox_item_id: int | None = None
    raw_sha256: str | None = None


@dataclass(frozen=True)
class HandoffResult:
    """The link the mail produced or continued; `created` is False for a repeat."""

    link: Link
    created: bool
    outbox: list[OutboxItem] = field(default_factory=list)


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
    owner, parent = found
    config = ctx.runtime.config
    owner_config = config.account(owner.slug)
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
    if not result.created:
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
    ctx.account, ctx.account_config = owner, ctx.runtime.config.account(owner.slug)
    ctx.ticket, ctx.related = parent, None
    ctx.sender_role, ctx.visibility, ctx.unverified = "agent", "internal", False


def hand_off(session: Session, runtime: Runtime, parent: Ticket, intent: HandoffIntent,
             source: HandoffSource) -> HandoffResult:
    """Open (or find) the child of `parent` at the intent's partner and notify the partner's side."""
    partner = repositories.account_by_slug(session, intent.partner.slug)
    if partner is None:
        raise LookupError(f"partner account {intent.partner.slug!r} is configured but not synced")
    existing = _existing_link(session, parent, partner.id, source.parsed.message_id)
    if existing is not None:
        return HandoffResult(existing, created=False)
    child = open_ticket(session, partner, parent.subject, by=source.dispatcher.email)
    child.asset = parent.asset
    add_participant(session, child, "requester", source.dispatcher, account_id=parent.account_id)
    contact = _customer_contact(session, parent, runtime.config)
    if contact is not None:
        add_participant(session, child, CONTACT_ROLE, contact)
    executors = _add_executors(session, child, intent, partner.id)
    _store_note(session, child, intent, source)
    description, files = _copy_request(session, parent, child, contact)
    transition = links.create_link(
        session, parent, child, actor=source.dispatcher.email,
        detail={"partner": intent.partner.slug, "address": intent.address,
                "via": "command" if intent.by_command else "forward"},
    )
    if parent.status == "new":
        change_status(session, parent, "open", by=source.dispatcher.email)
    queued = _notify_partner(session, runtime, transition.link, executors, intent, source, contact, description,
                             files)
    return HandoffResult(transition.link, created=True, outbox=queued)


def is_executor(config: Config, ticket: Ticket, email: str | None, participants: Sequence[Participant]) -> bool:
    """`email` works the ticket for its account: an agent or address of it, or the addressed executor."""
    if not email:
        return False
    email = email.lower()
    if account_matches(config.account(ticket.account.slug), email):
        return True
    return any(p.role == EXECUTOR_ROLE and p.email == email for p in participants)


def executors_of(ticket: Ticket) -> list[Participant]:
    """Who hears about the child on the partner's side (its agents, or the external partner's address)."""
    return [p for p in ticket.participants if p.role == EXECUTOR_ROLE and p.email]


def _existing_link(session: Session, parent: Ticket, partner_id: int, message_id: str | None) -> Link | None:
    """A link this mail already made, or an active one to the same partner (a second forward)."""
    for link in repositories.child_links(session, parent.id):
        if link.child.account_id != partner_id:
            continue
        if message_id and repositories.message_ref_exists(session, link.child_ticket_id, message_id):
            return link
        if link.state in links.ACTIVE_STATES:
            return link
    return None


def _customer_contact(session: Session, parent: Ticket, config: Config) -> Address | None:
    """The end customer: the parent's own contact when it is a child, else its requester.

    None when the handing account hides its customers from partners (and so
    further down, since a hidden contact is never copied to the child).
    """
    if config.account(parent.account.slug).hide_customer_contact:
        return None
    contact = next((p for p in parent.participants if p.role == CONTACT_ROLE and p.email), None)
    if contact is None and repositories.parent_link(session, parent.id) is None:
        contact = repositories.requester_of(session, parent.id)
    if contact is None or not contact.email:
        return None
    return Address(contact.name or "", contact.email)


def _add_executors(session: Session, child: Ticket, intent: HandoffIntent, partner_id: int) -> list[Participant]:
    """The partner's agents (hosted), or the address the dispatcher wrote to (external).

    A hosted partner's own inbound address is never one of them: mail to it
    would come straight back into this gateway.
    """
    partner: AccountConfig = intent.partner
    if partner.kind == "hosted":
        people = [Address(agent.name, agent.email) for agent in partner.agents if agent.email]
    else:
        people = [Address("", intent.address)]
    return [add_participant(session, child, EXECUTOR_ROLE, person, account_id=partner_id) for person in people]


def _store_note(session: Session, child: Ticket, intent: HandoffIntent, source: HandoffSource) -> Message:
    parsed = source.parsed
    return add_message(session, child, NewMessage(
        source_key=source.source_key,
        direction="in",
        visibility="public",
        channel=source.channel,
        sender=source.dispatcher,
        to=[a.email for a in parsed.to],
        cc=[a.email for a in parsed.cc],
        subject=parsed.subject,
        text=intent.note,
        rfc_message_id=parsed.message_id,
        inbox_item_id=source.inbox_item_id,
        raw_sha256=source.raw_sha256,
    ))


def _copy_request(session: Session, parent: Ticket, child: Ticket,
                  contact: Address | None) -> tuple[str, list[Attachment]]:
    """The parent's description and public files, as the child's second message (files by reference).

    The description is the parent's own copy of the request when the parent
    is itself a child, else its first public message.
    """
    public = [m for m in parent.messages if m.visibility == "public"]
    requests = [m for m in public if m.source_key.startswith(REQUEST_KEY)]
    first = (requests or public or [None])[0]
    files = [a for m in public for a in m.attachments if a.stored]
    copy = add_message(session, child, NewMessage(
        source_key=f"{REQUEST_KEY}{parent.id}",
        direction="in",
        visibility="public",
        channel="mirror",
        sender=contact or Address(parent.account.name, ""),
        subject=parent.subject,
        text=first.text if first is not None else "",
        origin_message_id=(first.origin_message_id or first.id) if first is not None else None,
        via_account_id=parent.account_id,
    ))
    return copy.text, copy_attachments(session, files, copy)


def copy_attachments(session: Session, files: Sequence[Attachment], target: Message) -> list[Attachment]:
    """New attachment rows on `target` pointing at the same blobs: nothing is copied on disk."""
    rows = [
        Attachment(message_id=target.id, filename=f.filename, content_type=f.content_type, size=f.size,
                   sha256=f.sha256, inline=f.inline, content_id=f.content_id, stored=f.stored)
        for f in files
    ]
    session.add_all(rows)
    session.flush()
    return rows


def file_refs(files: Sequence[Attachment]) -> list[FileRef]:
    return [FileRef(f.sha256, f.filename, f.content_type) for f in files if f.stored]


def _notify_partner(session: Session, runtime: Runtime, link: Link, executors: Sequence[Participant],
                    intent: HandoffIntent, source: HandoffSource, contact: Address | None, description: str,
                    files: Sequence[Attachment]) -> list[OutboxItem]:
    """The handoff notice, threaded with the dispatcher's forward, with the child's reply token."""
    contact_line = f"{contact.name} <{contact.email}>".strip() if contact is not None else None
    subject, text = chain_notices.handoff_notice(
        link.child, link.parent, source.dispatcher.name or source.dispatcher.email, intent.note, description,
        contact_line,
    )
    return [
        outbox.queue_mail(
            session, runtime, link.child, participant, kind="handoff", subject=subject, text=text,
            inbound_hops=hop_count(source.parsed), attachments=file_refs(files),
            in_reply_to=source.parsed.message_id,
        )
        for participant in executors
    ]

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
from dataclasses import dataclass

from sqlalchemy.orm import Session

from gateway import chain_notices, links, outbox
from gateway.compose import FileRef
from gateway.config import AccountConfig, Config
from gateway.handoff_detection import HandoffIntent, account_matches
from gateway.loop_guard import hop_count
from gateway.participants import add_participant
from gateway.runtime import Runtime
from gateway.tickets import NewMessage, add_message, open_ticket
from parsers.message import Address, ParsedMessage
from storage import repositories
from storage.models import Attachment, Link, Message, Participant, Ticket

EXECUTOR_ROLE = "agent"
CONTACT_ROLE = "contact"


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
    _notify_partner(session, runtime, transition.link, executors, intent, source, contact, description, files)
    return HandoffResult(transition.link, created=True)


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
    """The parent's requester, unless the handing account hides its customers from partners."""
    if config.account(parent.account.slug).hide_customer_contact:
        return None
    requester = repositories.requester_of(session, parent.id)
    if requester is None or not requester.email:
        return None
    return Address(requester.name or "", requester.email)


def _add_executors(session: Session, child: Ticket, intent: HandoffIntent, partner_id: int) -> list[Participant]:
    """The partner's agents (hosted), or the address the dispatcher wrote to (external)."""
    partner: AccountConfig = intent.partner
    if partner.kind == "hosted" and any(agent.email for agent in partner.agents):
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
    """The parent's description and public files, as the child's second message (files by reference)."""
    public = [m for m in parent.messages if m.visibility == "public"]
    first = public[0] if public else None
    files = [a for m in public for a in m.attachments if a.stored]
    copy = add_message(session, child, NewMessage(
        source_key=f"request:{parent.id}",
        direction="in",
        visibility="public",
        channel="mirror",
        sender=contact or Address(parent.account.name, ""),
        subject=parent.subject,
        text=first.text if first is not None else "",
        origin_message_id=first.id if first is not None else None,
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
                    files: Sequence[Attachment]) -> None:
    """The handoff notice, threaded with the dispatcher's forward, with the child's reply token."""
    contact_line = f"{contact.name} <{contact.email}>".strip() if contact is not None else None
    subject, text = chain_notices.handoff_notice(
        link.child, link.parent, source.dispatcher.name or source.dispatcher.email, intent.note, description,
        contact_line,
    )
    for participant in executors:
        outbox.queue_mail(
            session, runtime, link.child, participant, kind="handoff", subject=subject, text=text,
            inbound_hops=hop_count(source.parsed), attachments=file_refs(files),
            in_reply_to=source.parsed.message_id,
        )

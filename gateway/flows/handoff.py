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

from sqlalchemy.orm import Session

from gateway.core.accounts import settings_for
from gateway.core.config import AccountConfig, Config
from gateway.core.runtime import Runtime
from gateway.desk import adhoc_partners, links
from gateway.desk.participants import add_participant
from gateway.desk.partner_side import EXECUTOR_ROLE
from gateway.desk.shared_files import copy_attachments
from gateway.desk.tickets import (
    NewMessage,
    add_message,
    change_status,
    open_ticket,
    store_attachments,
)
from gateway.flows import mirroring
from gateway.flows.handoff_detection import HandoffIntent
from gateway.outbound import chain_notices, outbox
from gateway.outbound.compose import file_refs
from gateway.outbound.loop_guard import hop_count
from gateway.outbound.team_chat import announce_ticket
from parsers.message import Address, ParsedMessage
from storage import repositories
from storage.models import Attachment, Link, Message, OutboxItem, Participant, Ticket

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


CREATED, CONTINUED, REPEATED = "created", "continued", "repeated"


@dataclass(frozen=True)
class HandoffResult:
    """The link the mail created, continued (a new forward to the same partner) or repeated (seen before)."""

    link: Link
    outcome: str
    outbox: list[OutboxItem] = field(default_factory=list)


def hand_off(session: Session, runtime: Runtime, parent: Ticket, intent: HandoffIntent,
             source: HandoffSource) -> HandoffResult:
    """Open (or find) the child of `parent` at the intent's partner and notify the partner's side."""
    if intent.adhoc:
        partner = adhoc_partners.ensure_account(session, intent.partner)
    else:
        partner = repositories.account_by_slug(session, intent.partner.slug)
    if partner is None:
        raise LookupError(f"partner account {intent.partner.slug!r} is configured but not synced")
    existing = _existing_link(session, parent, partner.id, source.parsed.message_id)
    if existing is not None:
        return _continue(session, runtime, existing, intent, source)
    child = open_ticket(session, partner, parent.subject, by=source.dispatcher.email)
    child.asset = parent.asset
    add_participant(session, child, "requester", source.dispatcher, account_id=parent.account_id)
    contact = _customer_contact(session, parent, runtime.config)
    if contact is not None:
        add_participant(session, child, CONTACT_ROLE, contact)
    executors = _add_executors(session, child, intent, partner.id)
    parent_files = _public_files(parent)
    note = _store_note(session, runtime, child, intent, source, known={f.sha256 for f in parent_files})
    description, files = _copy_request(session, parent, child, contact, parent_files)
    transition = links.create_link(
        session, parent, child, actor=source.dispatcher.email,
        detail={"partner": intent.partner.slug, "address": intent.address,
                "via": "command" if intent.by_command else "forward"},
    )
    if parent.status == "new":
        change_status(session, parent, "open", by=source.dispatcher.email)
    handed_files = [*files, *note.attachments]
    queued = _notify_partner(session, runtime, transition.link, executors, intent, source, contact, description,
                             handed_files)
    queued += announce_ticket(session, runtime, child, f"Handoff {parent.ref} → {child.ref} from {parent.account.name}",
                              description, handed_files)
    return HandoffResult(transition.link, CREATED, queued)


def _continue(session: Session, runtime: Runtime, link: Link, intent: HandoffIntent,
              source: HandoffSource) -> HandoffResult:
    """The same mail again does nothing; a new forward to the partner joins the child's thread."""
    message_id = source.parsed.message_id
    if message_id and repositories.message_ref_exists(session, link.child_ticket_id, message_id):
        return HandoffResult(link, REPEATED)
    note = _store_note(session, runtime, link.child, intent, source, known=set())
    return HandoffResult(link, CONTINUED, mirroring.mirror(session, runtime, note, hop_count(source.parsed)))


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
    if settings_for(config, parent.account).hide_customer_contact:
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


def _store_note(session: Session, runtime: Runtime, child: Ticket, intent: HandoffIntent, source: HandoffSource,
                known: set[str]) -> Message:
    """The dispatcher's note on the child, with the forward's own files that the child has not got yet."""
    parsed = source.parsed
    note = add_message(session, child, NewMessage.inbound(
        parsed, source_key=source.source_key, visibility="public", channel=source.channel,
        inbox_item_id=source.inbox_item_id, raw_sha256=source.raw_sha256,
        sender=source.dispatcher, text=intent.note, elided="", signature=None,
    ))
    fresh = {a.sha256: a for a in parsed.attachments if a.sha256 not in known}
    store_attachments(session, runtime.blobs, note, fresh.values())
    session.flush()
    session.refresh(note, ["attachments"])
    return note


def _public_files(ticket: Ticket) -> list[Attachment]:
    """Each stored file of the ticket's public messages once."""
    found = {a.sha256: a for m in ticket.messages if m.visibility == "public" for a in m.attachments if a.stored}
    return list(found.values())


def _copy_request(session: Session, parent: Ticket, child: Ticket, contact: Address | None,
                  files: Sequence[Attachment]) -> tuple[str, list[Attachment]]:
    """The parent's description and public files, as the child's second message (files by reference).

    The description is the parent's own copy of the request when the parent
    is itself a child, else its first public message.
    """
    public = [m for m in parent.messages if m.visibility == "public"]
    requests = [m for m in public if m.source_key.startswith(REQUEST_KEY)]
    first = (requests or public or [None])[0]
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

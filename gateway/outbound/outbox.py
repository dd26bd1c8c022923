"""Queue one mail to one participant of a ticket, in the caller's transaction.

The mail is fully rendered now (its Message-ID is known and recorded before
anything is sent, so a retried delivery is harmless and replies thread).  Its
bytes go into the OutboxItem row itself, written by the same commit: a blob
file would cost an fsync of the file and of its directory per mail.  Only
mail over `IN_ROW_LIMIT` (big attachments) goes to the blob store, so rows
stay small; `rendered_mail` reads either.  The row is what the delivery actor
and the sweeper work from.

Other modules add to every mail through `DECORATORS`: functions
`(session, ticket, draft) -> None` that append headers or footer lines
(e.g. the chain line and X-Relaydesk-Status/Chain headers).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from sqlalchemy.orm import Session

from gateway.core.runtime import Runtime
from gateway.core.tokens import make_body_marker, make_verp_address, reply_address
from gateway.desk.chain import chain_entries, chain_headers, line_through
from gateway.desk.opened_now import opened_now
from gateway.desk.tickets import hosting_account, remember_message_id
from gateway.outbound.status_page_link import status_page_line
from gateway.outbound.compose import (
    Draft,
    FileRef,
    bare_subject,
    new_message_id,
    render_bytes,
    tagged_subject,
    thread_index,
)
from gateway.desk.withheld import WITHHELD, is_withheld
from gateway.outbound.transports import PermanentError
from storage.blobs import IN_ROW_LIMIT, BlobNotFound, BlobStore
from storage.clock import event_time
from storage.direct_insert import insert_now
from storage.models import OutboxItem, Participant, Ticket, utcnow
from storage.repositories import (
    first_inbound_address,
    conversation_ends,
)

NOTICE_KIND = "notice"  # mail to agents about the ticket (a failed delivery, a declined or closed child)

DraftDecorator = Callable[[Session, Ticket, Draft], None]

def decorate_with_chain(session: Session, ticket: Ticket, draft: Draft) -> None:
    """Outbox decorator: X-Relaydesk-Status/Chain on every mail, the chain line when linked.

    The chain is read once per mail: each reading walks every link of it.
    """
    entries = chain_entries(session, ticket)
    draft.headers.update(chain_headers(ticket, entries))
    if len(entries) > 1:
        draft.footer.append(f"Chain: {line_through(entries, ticket.ref)}")


# Applied in order to every draft before rendering.
DECORATORS: list[DraftDecorator] = [decorate_with_chain]


class NotAParticipant(ValueError):
    """Mail about a ticket may only go to that ticket's participants."""


class StoredMail(Protocol):
    """Where a queued mail's bytes are: an OutboxItem, or the delivery's copy of one."""

    @property
    def rendered(self) -> bytes | None: ...

    @property
    def payload_sha256(self) -> str | None: ...


def keep_rendered(blobs: BlobStore, item: OutboxItem, payload: bytes) -> None:
    """Put the rendered mail in the row, committed with it and no file to fsync; over `IN_ROW_LIMIT`, in the
    blob store, so reading outbox rows never drags big attachments along."""
    if len(payload) <= IN_ROW_LIMIT:
        item.rendered = payload
    else:
        item.payload_sha256 = blobs.put(payload)


def rendered_mail(blobs: BlobStore, item: StoredMail) -> bytes:
    """The bytes of a queued mail, from its row or the blob store (big mail, and rows queued before 0010).

    Raises PermanentError when neither has them: no retry of the delivery would bring them back.
    """
    if item.rendered is not None:
        return item.rendered
    if not item.payload_sha256:
        raise PermanentError("the outbox item has no rendered mail")
    try:
        return blobs.get(item.payload_sha256)
    except BlobNotFound:
        raise PermanentError(f"rendered mail {item.payload_sha256} is missing from the blob store") from None


def queue_mail(
    session: Session,
    runtime: Runtime,
    ticket: Ticket,
    participant: Participant,
    *,
    kind: str,
    text: str,
    subject: str | None = None,
    auto: bool = False,
    inbound_hops: int = 0,
    attachments: Sequence[FileRef] = (),
    message_id: int | None = None,
    in_reply_to: str | None = None,
    decorators: Sequence[DraftDecorator] | None = None,
) -> OutboxItem:
    """Render and queue one mail to `participant`; returns the OutboxItem, written.

    `in_reply_to` names a Message-ID to continue besides the participant's
    own thread (e.g. the dispatcher's forward a handoff notice answers).
    """
    if participant.ticket_id != ticket.id:
        raise NotAParticipant(f"participant {participant.id} is not on {ticket.ref}")
    if not participant.email:
        raise NotAParticipant(f"participant {participant.id} of {ticket.ref} has no email address")
    if is_withheld(session, kind):
        return _withheld(session, ticket, participant, kind, subject, message_id)
    config = runtime.config
    sender = hosting_account(session, ticket)
    from_email = first_inbound_address(session, sender.id)
    if from_email is None:
        raise ValueError(f"account {sender.slug} has no inbound address to send {ticket.ref} from")
    draft = _draft(session, runtime, ticket, participant, from_email, sender.name, kind, text, subject, auto,
                   inbound_hops, attachments, in_reply_to)
    for decorate in DECORATORS if decorators is None else decorators:
        decorate(session, ticket, draft)
    status_line = status_page_line(session, config, ticket, participant)
    if status_line is not None:
        draft.footer.append(status_line)
    item = OutboxItem(
        ticket_id=ticket.id,
        message_id=message_id,
        kind=kind,
        channel="email",
        recipient=participant.email,
        envelope_from=bounce_mailbox(runtime, from_email),
        rfc_message_id=draft.message_id,
        payload={"ref": ticket.ref, "subject": draft.subject, "participant_id": participant.id},
    )
    keep_rendered(runtime.blobs, item, render_bytes(draft, runtime.blobs.get))
    _written(session, ticket, item)
    remember_message_id(session, ticket, draft.message_id, message_id=message_id, participant_id=participant.id,
                        fresh=True)
    return item


def bounce_mailbox(runtime: Runtime, from_email: str) -> str:
    """Where bounces of mail sent from `from_email` go: the operator's bounce address, else bounces@ its domain.

    Stored as the item's `envelope_from`; the delivery tags it with the
    item's id (`return_path`), so it is known before the row has an id and
    the insert needs no second statement.
    """
    return runtime.config.outbound.bounce_address or f"bounces@{from_email.rpartition('@')[2]}"


def return_path(secret: str, envelope_from: str, outbox_id: int) -> str:
    """The envelope sender a mail goes out with: its bounce mailbox VERP-tagged with the item's id, so a
    bounce names the item it is about; '' (a null sender) stays ''."""
    return make_verp_address(secret, envelope_from, outbox_id) if envelope_from else ""


def _withheld(session: Session, ticket: Ticket, participant: Participant, kind: str, subject: str | None,
              message_id: int | None) -> OutboxItem:
    """The record of a mail history caused: not rendered, never delivered, dated with the history."""
    item = OutboxItem(
        ticket_id=ticket.id, message_id=message_id, kind=kind, channel="email", recipient=participant.email,
        envelope_from="", status=WITHHELD, created_at=event_time(),
        payload={"ref": ticket.ref, "subject": subject if subject is not None else ticket.subject,
                 "participant_id": participant.id},
    )
    _written(session, ticket, item)
    return item


def _written(session: Session, ticket: Ticket, item: OutboxItem) -> None:
    """Write the new item (callers need its id and count it at once); a ticket opened now notes it as ours."""
    insert_now(session, item)
    opened = opened_now(session, ticket)
    if opened is not None:
        opened.ours[item.recipient] = (item.created_at, item.rfc_message_id)


def _draft(
    session: Session, runtime: Runtime, ticket: Ticket, participant: Participant, from_email: str, from_name: str,
    kind: str, text: str, subject: str | None, auto: bool, inbound_hops: int, attachments: Sequence[FileRef],
    in_reply_to: str | None,
) -> Draft:
    config = runtime.config
    previous = _their_thread(session, ticket, participant.email or "")
    if in_reply_to and in_reply_to not in previous:
        previous.append(in_reply_to)
    now = utcnow()
    return Draft(
        ref=ticket.ref,
        kind=kind,
        from_name=from_name,
        from_email=from_email,
        to_name=participant.name,
        to_email=participant.email or "",
        reply_to=reply_address(config.security.secret, from_email, ticket.id, participant.id),
        subject=tagged_subject(ticket.ref, subject if subject is not None else ticket.subject),
        text=text,
        message_id=new_message_id(config.message_id_domain),
        marker=make_body_marker(config.security.secret, ticket.ref),
        thread_topic=bare_subject(ticket.subject) or ticket.ref,
        thread_index=thread_index(f"relaydesk:{ticket.id}:{ticket.ref}", ticket.created_at, now, bool(previous)),
        hops=inbound_hops + 1,
        auto=auto,
        in_reply_to=previous[-1] if previous else None,
        references=previous,
        attachments=list(attachments),
        date=now,
    )


def _their_thread(session: Session, ticket: Ticket, email: str) -> list[str]:
    """Message-IDs of the recipient's conversation so far, oldest first: their last mail and our last to them."""
    opened = opened_now(session, ticket)
    ends = opened.conversation_ends(email.lower()) if opened else conversation_ends(session, ticket.id, email)
    return [rfc_id for _, rfc_id in sorted(end for end in ends if end[1])]

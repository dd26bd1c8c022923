"""Why a mail was not applied, and the one short reply that says so.

Code that refuses something raises one of the `Rejection` subclasses below;
the caller hands it to `queue_rejection`, which turns it into one error
reply through the composer.  Each class names one reason and carries its
reply text, so adding a reason is one small class, not a branch somewhere.

Error replies are the classic source of mail loops, so `queue_rejection`
sends nothing to machines (auto-replies, bounces, list and looped mail), to
our own addresses, or to an address that already got an error of the same
reason within the last day.
"""

from __future__ import annotations

import logging
from typing import ClassVar

from sqlalchemy.orm import Session

from gateway.core.runtime import Runtime
from gateway.desk.participants import add_participant, participant_for, role_of
from gateway.outbound import loop_guard
from gateway.outbound.compose import bare_subject
from gateway.outbound.outbox import queue_mail
from parsers.message import Address, ParsedMessage
from storage.models import OutboxItem, Participant, Ticket
from storage.claims import serialize_on

log = logging.getLogger(__name__)


class Rejection(Exception):
    """A mail that was kept but not applied; `reply_text()` tells its sender why."""

    reason: ClassVar[str] = "rejected"
    template: ClassVar[str] = "Your message was received but could not be applied."

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.reason)
        self.detail = detail

    def reply_text(self) -> str:
        return self.template.format(detail=self.detail)


class UnknownCommand(Rejection):
    reason = "unknown_command"
    template = (
        "relaydesk does not know the command \"{detail}\", so your message was not applied.\n"
        "Known commands: #status open|pending|resolved|closed, #internal, #handoff <partner> [note], "
        "#recall, #rate 1-5 [comment], #assign <agent>, #asset <id or text>, #approve."
    )


class NotAuthorised(Rejection):
    reason = "not_authorised"
    template = (
        "You are not allowed to use {detail} on this ticket, so your message was not applied.\n"
        "Commands are accepted only from agents of the account that owns the ticket."
    )


class SenderNotVerified(Rejection):
    reason = "sender_not_verified"
    template = (
        "Your message asked for {detail}, but our mail server could not confirm (DKIM or SPF) that it came from "
        "your domain, so it was not applied.\nPlease send it again from your usual mail account; if this keeps "
        "happening, your administrator can check your domain's DKIM and SPF records."
    )


class UnknownPartner(Rejection):
    reason = "unknown_partner"
    template = (
        "\"{detail}\" is not a partner of this account, so the ticket was not handed off.\n"
        "Use the partner's short name as configured by your administrator."
    )


class BadRating(Rejection):
    reason = "bad_rating"
    template = "\"{detail}\" is not a rating. Write #rate followed by a number from 1 to 5 and an optional comment."


class BadStatus(Rejection):
    reason = "bad_status"
    template = "\"{detail}\" is not a status this ticket can take. Use #status open, pending, resolved or closed."


class UnknownAgent(Rejection):
    reason = "unknown_agent"
    template = "\"{detail}\" is not an agent of this account, so the ticket was not assigned."


class NoHandoff(Rejection):
    reason = "no_handoff"
    template = "This ticket has no open handoff ({detail}), so there is nothing to recall or rate."


class NoTicketToHandOff(Rejection):
    reason = "no_ticket_for_handoff"
    template = (
        "Nothing was handed off: {detail}.\n"
        "Reply to a mail about the ticket (or keep its [REF] in the subject) with #handoff <partner> [note] "
        "as the first line, or forward the customer's mail to the partner with this address in Cc."
    )


class NothingToApprove(Rejection):
    reason = "nothing_to_approve"
    template = "There is no message from an unverified sender waiting for approval on {detail}."


class NoBody(Rejection):
    reason = "no_body"
    template = "Your message had no text relaydesk could read, so nothing was added to the ticket."


def queue_rejection(
    session: Session,
    runtime: Runtime,
    to_address: str,
    error: Rejection,
    in_reply_to: ParsedMessage,
    ticket: Ticket,
) -> OutboxItem | None:
    """Write one error reply to `to_address` about `ticket` into the outbox, or None when it must not be sent.

    Runs inside the caller's transaction, so the reply exists exactly when the
    decision that caused it is committed.  Only participants of the ticket
    (or agents of an account on it) get one: answering strangers would make
    the gateway a reflector for forged senders.
    """
    config = runtime.config
    if not loop_guard.may_auto_answer(in_reply_to, config):
        log.info("no error reply (%s) to %s: the mail is %s", error.reason, to_address, in_reply_to.kind)
        return None
    if loop_guard.is_own_address(to_address, config):
        log.info("no error reply (%s) to our own address %s", error.reason, to_address)
        return None
    serialize_on(session, f"error reply:{to_address.strip().lower()}")  # two workers, one reply
    if loop_guard.error_reply_sent_recently(session, to_address, error.reason):
        log.info("no error reply (%s) to %s: one was sent within the last day", error.reason, to_address)
        return None
    participant = _addressee(session, ticket, to_address)
    if participant is None:
        log.info("no error reply (%s) to %s: not a participant of %s", error.reason, to_address, ticket.ref)
        return None
    item = queue_mail(
        session, runtime, ticket, participant,
        kind=loop_guard.ERROR_REPLY_KIND,
        subject=f"Not applied: {bare_subject(in_reply_to.subject) or bare_subject(ticket.subject)}",
        text=f"{error.reply_text()}\n\nThis is an automatic reply; your message is kept on {ticket.ref}.",
        auto=True,
        inbound_hops=loop_guard.hop_count(in_reply_to),
        in_reply_to=in_reply_to.message_id,
    )
    item.payload = {**item.payload, "reason": error.reason}
    return item


def _addressee(session: Session, ticket: Ticket, address: str) -> Participant | None:
    participant = participant_for(session, ticket, address)
    if participant is not None:
        return participant
    role = role_of(session, ticket, address)
    if role in ("agent", "partner"):
        return add_participant(session, ticket, role, Address("", address.strip().lower()))
    return None

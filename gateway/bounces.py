"""Bounces: which of our mails failed, recorded on its ticket and told to the agents.

Runs before threading, because a bounce must never become a ticket, a
follow-up or a reply.  The failed outbox item is found by its VERP return
path (`bounces+<outbox id>-<sig>@…`, trusted only when the signature
verifies) and otherwise by the original Message-ID quoted in the report.
A bounce that matches nothing is kept as an inbox item and logged; nothing
is ever sent in answer to one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.config import Config
from gateway.delivery import fail_outbox_item
from gateway.runtime import Runtime
from gateway.tickets import NewMessage, add_event, add_message
from gateway.tokens import read_verp_address, split_plus
from parsers.message import ParsedMessage
from storage.models import InboxItem, OutboxItem, Ticket

if TYPE_CHECKING:
    from gateway.pipeline import Inbound

log = logging.getLogger(__name__)

# Where the address a bounce was sent to can be read, besides the SMTP envelope.
_DELIVERY_HEADERS = ("delivered-to", "x-original-to", "envelope-to")


@dataclass(frozen=True)
class BounceOutcome:
    """What handling a bounce did: the failed item, the notices queued, a line for the inbox item."""

    outbox_id: int | None
    ticket_id: int | None
    detail: str
    notices: list[OutboxItem] = field(default_factory=list)


def handle_bounces(ctx: Inbound) -> None:
    """Pipeline step: a bounce is recorded against our outbox and goes no further (no ticket, no reply)."""
    if not is_bounce(ctx.parsed, ctx.recipients, ctx.runtime.config):
        return
    outcome = record_bounce(ctx.session, ctx.runtime, ctx.parsed, ctx.item, ctx.recipients)
    ctx.outbox.extend(outcome.notices)
    ctx.problems.append(outcome.detail)
    ctx.handled = True


def is_bounce(parsed: ParsedMessage, envelope_recipients: Iterable[str], config: Config) -> bool:
    """A delivery report, or anything sent to the bounce mailbox (VERP or not)."""
    if parsed.kind == "bounce":
        return True
    mailbox = config.outbound.bounce_address
    if not mailbox:
        return False
    base, _, domain = split_plus(mailbox)
    return any(split_plus(a)[0] == base and split_plus(a)[2] == domain for a in _addressed_to(parsed, envelope_recipients))


def record_bounce(
    session: Session, runtime: Runtime, parsed: ParsedMessage, inbox: InboxItem, recipients: Iterable[str]
) -> BounceOutcome:
    """Fail the outbox item the bounce is about, store the report on its ticket, tell the agents."""
    item, found_by = _failed_item(session, runtime, parsed, recipients)
    if item is None:
        detail = f"bounce matches no outbox item ({found_by})"
        log.info("inbox %s: %s; kept, not answered", inbox.id, detail)
        return BounceOutcome(None, None, detail)
    ticket = session.get(Ticket, item.ticket_id) if item.ticket_id is not None else None
    reason = _reason(parsed)
    delayed = bool(parsed.bounce and parsed.bounce.status and parsed.bounce.status.startswith("4"))
    if ticket is not None:
        _store_report(session, ticket, parsed, inbox)
    notices: list[OutboxItem] = []
    if delayed and ticket is not None:
        # A "still trying" report: the remote side has not given up, so neither do we.
        add_event(session, ticket, "delivery_delayed", outbox_id=item.id, recipient=item.recipient, reason=reason)
    elif not delayed:
        notices = fail_outbox_item(session, runtime, item, f"bounced: {reason}")
    detail = f"outbox {item.id} to {item.recipient} {'delayed' if delayed else 'bounced'} (found by {found_by}): {reason}"
    log.info("inbox %s: %s", inbox.id, detail)
    return BounceOutcome(item.id, ticket.id if ticket is not None else None, detail, notices)


def _failed_item(
    session: Session, runtime: Runtime, parsed: ParsedMessage, envelope_recipients: Iterable[str]
) -> tuple[OutboxItem | None, str]:
    """The outbox item and how it was found, or None and why not."""
    secret = runtime.config.security.secret
    for address in _addressed_to(parsed, envelope_recipients):
        outbox_id = read_verp_address(secret, address)
        item = session.get(OutboxItem, outbox_id) if outbox_id is not None else None
        if item is not None:
            return item, "VERP address"
    original = parsed.bounce.original_message_id if parsed.bounce else None
    if original:
        item = session.scalar(select(OutboxItem).where(OutboxItem.rfc_message_id == original))
        if item is not None:
            return item, "original Message-ID"
        return None, f"no VERP address of ours, original Message-ID {original} unknown"
    return None, "no VERP address of ours and no original Message-ID in the report"


def _addressed_to(parsed: ParsedMessage, envelope_recipients: Iterable[str]) -> list[str]:
    """Every address the bounce was delivered to: SMTP envelope, delivery headers, To."""
    addresses = [a.strip().lower() for a in envelope_recipients]
    for name in _DELIVERY_HEADERS:
        addresses.extend(v.strip().strip("<>").lower() for v in parsed.headers.get(name, []))
    addresses.extend(a.email for a in parsed.to)
    return list(dict.fromkeys(a for a in addresses if "@" in a))


def _reason(parsed: ParsedMessage) -> str:
    bounce = parsed.bounce
    if bounce is None:
        return "the receiving server returned the mail without a reason"
    parts = [part for part in (bounce.status, bounce.diagnostic) if part]
    return " ".join(parts) or "the receiving server returned the mail without a reason"


def _store_report(session: Session, ticket: Ticket, parsed: ParsedMessage, inbox: InboxItem) -> None:
    """The bounce itself, as an `auto` message: visible to agents, never mirrored or answered."""
    add_message(session, ticket, NewMessage(
        source_key=f"inbox:{inbox.id}",
        direction="in",
        visibility="auto",
        channel=inbox.channel,
        sender=parsed.sender,
        to=[a.email for a in parsed.to],
        cc=[a.email for a in parsed.cc],
        subject=parsed.subject,
        text=parsed.text,
        elided=parsed.elided,
        rfc_message_id=parsed.message_id,
        inbox_item_id=inbox.id,
        raw_sha256=inbox.raw_sha256,
    ))

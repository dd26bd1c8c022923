"""Bounces: which of our mails failed, recorded on its ticket and told to the agents.

Runs before threading, because a bounce must never become a ticket, a
follow-up or a reply.  The failed outbox item is found by its VERP return
path (`bounces+<outbox id>-<sig>@…`, trusted only when the signature
verifies) and otherwise by the original Message-ID quoted in the report.
A bounce that matches nothing is kept as an inbox item and logged; nothing
is ever sent in answer to one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.core.config import Config
from gateway.core.runtime import Runtime
from gateway.core.tokens import read_verp_address, split_plus
from gateway.desk.tickets import add_event
from gateway.outbound.delivery import fail_outbox_item
from parsers.message import ParsedMessage
from storage.models import OutboxItem, Ticket

# Where the address a bounce was sent to can be read, besides the SMTP envelope.
_DELIVERY_HEADERS = ("delivered-to", "x-original-to", "envelope-to")


@dataclass(frozen=True)
class BounceOutcome:
    """What a bounce changed: the failed item, its ticket, the notices queued, a line for the inbox item."""

    outbox_id: int | None
    ticket: Ticket | None
    detail: str
    notices: list[OutboxItem] = field(default_factory=list)


def is_bounce(parsed: ParsedMessage, recipients: Iterable[str], config: Config) -> bool:
    """A delivery report, or anything sent to a VERP address of ours or to the bounce mailbox."""
    if parsed.kind == "bounce":
        return True
    addresses = _addressed_to(parsed, recipients)
    if any(read_verp_address(config.security.secret, a) is not None for a in addresses):
        return True
    mailbox = config.outbound.bounce_address
    return bool(mailbox) and any(split_plus(a)[0::2] == split_plus(mailbox)[0::2] for a in addresses)


def record_bounce(session: Session, runtime: Runtime, parsed: ParsedMessage, recipients: Iterable[str]) -> BounceOutcome:
    """Fail the outbox item the bounce is about (or note a delay) and tell the agents."""
    item, found_by = _failed_item(session, runtime, parsed, recipients)
    if item is None:
        return BounceOutcome(None, None, f"bounce matches no outbox item ({found_by}); kept, not answered")
    ticket = session.get(Ticket, item.ticket_id) if item.ticket_id is not None else None
    reason = _reason(parsed)
    if parsed.bounce and parsed.bounce.status and parsed.bounce.status.startswith("4"):
        # A "still trying" report: the remote side has not given up, so neither do we.
        if ticket is not None:
            add_event(session, ticket, "delivery_delayed", outbox_id=item.id, recipient=item.recipient, reason=reason)
        return BounceOutcome(item.id, ticket, f"outbox {item.id} to {item.recipient} delayed ({found_by}): {reason}")
    notices = fail_outbox_item(session, runtime, item, f"bounced: {reason}")
    return BounceOutcome(item.id, ticket, f"outbox {item.id} to {item.recipient} bounced ({found_by}): {reason}",
                         notices)


def _failed_item(
    session: Session, runtime: Runtime, parsed: ParsedMessage, recipients: Iterable[str]
) -> tuple[OutboxItem | None, str]:
    """The outbox item and how it was found, or None and why not."""
    secret = runtime.config.security.secret
    for address in _addressed_to(parsed, recipients):
        outbox_id = read_verp_address(secret, address)
        item = session.get(OutboxItem, outbox_id) if outbox_id is not None else None
        if item is not None:
            return item, "found by VERP address"
    original = parsed.bounce.original_message_id if parsed.bounce else None
    if original:
        item = session.scalar(select(OutboxItem).where(OutboxItem.rfc_message_id == original))
        if item is not None:
            return item, "found by original Message-ID"
        return None, f"no VERP address of ours, original Message-ID {original} unknown"
    return None, "no VERP address of ours and no original Message-ID in the report"


def _addressed_to(parsed: ParsedMessage, recipients: Iterable[str]) -> list[str]:
    """Every address the bounce was delivered to: SMTP envelope, delivery headers, To."""
    addresses = [a.strip().lower() for a in recipients]
    for name in _DELIVERY_HEADERS:
        addresses.extend(v.strip().strip("<>").lower() for v in parsed.headers.get(name, []))
    addresses.extend(a.email for a in parsed.to)
    return list(dict.fromkeys(a for a in addresses if "@" in a))


def _reason(parsed: ParsedMessage) -> str:
    bounce = parsed.bounce
    parts = [part for part in (bounce.status, bounce.diagnostic) if part] if bounce else []
    return " ".join(parts) or "the receiving server returned the mail without a reason"

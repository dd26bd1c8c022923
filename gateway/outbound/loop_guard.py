"""Decisions that keep relaydesk from talking to machines or to itself.

Two gateways answering each other, an auto-responder answering our
acknowledgement, a mirror echoing along a chain: each of these turns into a
mail storm unless every automatic send asks first.  The functions here only
decide; callers act on the answer.

    hop_count(parsed)                   X-Relaydesk-Hops of an inbound mail (0 if absent); pass it to
                                        outbox.queue_mail(inbound_hops=…) for mail it causes
    over_hop_limit(parsed, config)      hops ≥ security.max_hops: store as `loop`, never answer
    came_back(parsed, config)           the mail carries a Message-ID of our own domain
    is_automatic(parsed)                auto-reply, bounce, list or loop mail (never answer it)
    may_auto_answer(parsed, config)     none of the above: an automatic reply is allowed
    is_own_address(address, config)    one of our addresses (hosted, plus-form, bounce mailbox, signed
                                        VERP, Message-ID domain)
    mirror_cap_reached(session, ticket_id, config)
                                        this ticket already got `outbound.mirror_cap_per_minute`
                                        mirrored messages in the last minute
    error_reply_sent_recently(session, address, reason)
                                        an error reply of this reason went to this address in the
                                        last day (rejections send at most one per address and reason)
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.core.config import Config
from gateway.core.tokens import read_verp_address
from gateway.outbound.compose import HOPS_HEADER
from parsers.message import ParsedMessage
from storage.models import Message, OutboxItem, utcnow

ERROR_REPLY_KIND = "error"
ERROR_REPLY_WINDOW = timedelta(days=1)
_LEADING_NUMBER = re.compile(r"\s*(\d{1,9})")
_AUTOMATIC_KINDS = frozenset({"auto_reply", "bounce", "list", "loop"})


def hop_count(parsed: ParsedMessage) -> int:
    """How many relaydesk installations this mail already passed (0 when unmarked)."""
    value = parsed.header(HOPS_HEADER)
    found = _LEADING_NUMBER.match(value or "")
    return int(found.group(1)) if found else 0


def over_hop_limit(parsed: ParsedMessage, config: Config) -> bool:
    return hop_count(parsed) >= config.security.max_hops


def came_back(parsed: ParsedMessage, config: Config) -> bool:
    """Our own mail, returned to us (its Message-ID is in our Message-ID domain)."""
    return _message_id_domain(parsed.message_id) == config.message_id_domain


def is_automatic(parsed: ParsedMessage) -> bool:
    """Written by a machine or a list: storing it is fine, answering it is not (RFC 3834)."""
    return parsed.kind in _AUTOMATIC_KINDS


def may_auto_answer(parsed: ParsedMessage, config: Config) -> bool:
    """True when an automatic reply (ack, error, notice) to `parsed` cannot start a loop."""
    return not (is_automatic(parsed) or over_hop_limit(parsed, config) or came_back(parsed, config))


def is_own_address(address: str, config: Config) -> bool:
    """An address that delivers back into this gateway; never a target for automatic mail."""
    address = address.strip().lower()
    local, _, domain = address.rpartition("@")
    base = f"{local.split('+', 1)[0]}@{domain}"
    if base in config.hosted_addresses or address in config.hosted_addresses:
        return True
    if config.outbound.bounce_address and base == config.outbound.bounce_address.lower():
        return True
    if read_verp_address(config.security.secret, address) is not None:
        return True
    return domain == config.message_id_domain


def mirror_cap_reached(session: Session, ticket_id: int, config: Config, now: datetime | None = None) -> bool:
    """Too many mirrored messages landed on this ticket within the last minute."""
    since = (now or utcnow()) - timedelta(minutes=1)
    count = session.scalar(
        select(func.count(Message.id)).where(
            Message.ticket_id == ticket_id, Message.channel == "mirror", Message.created_at >= since
        )
    )
    return (count or 0) >= config.outbound.mirror_cap_per_minute


def error_reply_sent_recently(session: Session, address: str, reason: str, now: datetime | None = None) -> bool:
    """An error reply of `reason` went to `address` within the last day.

    The reason is kept in the outbox item's payload; the (recipient, kind,
    created_at) index narrows the scan to a handful of rows.
    """
    since = (now or utcnow()) - ERROR_REPLY_WINDOW
    payloads = session.scalars(
        select(OutboxItem.payload).where(
            OutboxItem.recipient == address.strip().lower(),
            OutboxItem.kind == ERROR_REPLY_KIND,
            OutboxItem.created_at >= since,
            OutboxItem.status != "withheld",
        )
    )
    return any((payload or {}).get("reason") == reason for payload in payloads)


def _message_id_domain(message_id: str | None) -> str:
    return (message_id or "").strip().strip("<>").rpartition("@")[2].lower()

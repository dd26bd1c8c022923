"""Threading rule 4: a forward belongs to the ticket of the message it forwards.

A dispatcher forwarding a customer's mail rarely keeps any of our ids: the
forward has a fresh Message-ID, no References and a `FW:` subject.  What it
does carry is the original — its Message-ID when the client attached it as
`message/rfc822`, otherwise its sender, subject and date from the quoted
header block.  Both are matched against messages stored in the receiving
account's tickets.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gateway.desk.tickets import hosting_account
from gateway.outbound.compose import bare_subject
from parsers.message import ForwardedOriginal, ParsedMessage
from storage.models import Account, Message, Ticket
from storage.repositories import ticket_by_message_ids

# The quoted "Sent:" line is in the forwarder's local time without a zone,
# so the recovered date can be off by a time-zone difference (up to 14 h)
# plus delivery delays.
DATE_TOLERANCE = timedelta(hours=26)
CANDIDATE_LIMIT = 50


def normalized_subject(subject: str) -> str:
    """The subject as people mean it: no prefixes or ticket tags, case-folded."""
    return bare_subject(subject).casefold()


def ticket_of_forwarded_original(session: Session, account: Account, parsed: ParsedMessage) -> Ticket | None:
    """The account's ticket holding the forwarded original, by its Message-ID or by (sender, subject, date)."""
    if parsed.forward is None:
        return None
    original = parsed.forward.original
    if original.message_id:
        ticket = ticket_by_message_ids(session, account.id, [original.message_id])
        if ticket is not None:
            return ticket
    return _by_sender_subject_date(session, account, original)


def _by_sender_subject_date(session: Session, account: Account, original: ForwardedOriginal) -> Ticket | None:
    if original.sender is None or not original.sender.email:
        return None
    wanted = normalized_subject(original.subject)
    rows = session.scalars(
        select(Message)
        .join(Ticket, Message.ticket_id == Ticket.id)
        .join(Account, Ticket.account_id == Account.id)
        .where(
            Message.from_email == original.sender.email.lower(),
            Message.direction == "in",
            or_(Ticket.account_id == account.id, Account.kind == "external"),
        )
        .order_by(Message.id.desc())
        .limit(CANDIDATE_LIMIT)
    )
    candidates = [m for m in rows if normalized_subject(m.subject) == wanted]
    if original.date is not None:
        candidates = [m for m in candidates if _distance(m.created_at, original.date) <= DATE_TOLERANCE]
        candidates.sort(key=lambda m: _distance(m.created_at, original.date))
    for message in candidates:
        if hosting_account(session, message.ticket).id == account.id:
            return message.ticket
    return None


def _distance(a: datetime, b: datetime) -> timedelta:
    return abs(a - b)

"""Two relaydesk installations linked through email alone (SPEC §5, last paragraph).

Every mail we send carries `X-Relaydesk-Ticket` (our ref), `X-Relaydesk-Status`,
`X-Relaydesk-Chain` (`gateway.desk.chain.chain_headers`: `VND-1=open, PTN-1=resolved`)
and the hop counter `X-Relaydesk-Hops` (`gateway.outbound.compose`).  This module is the
reading side:

- `read_remote` decodes those headers from an inbound mail, tolerating junk;
- `ticket_for_remote` backs a threading rule: a mail from the other installation
  about its ticket `FX-7` threads to our ticket that learnt the remote ref
  (`external_id = "relaydesk:fixit.example:FX-7"`, qualified by the sender's
  domain because two installations may both number `FX-…`), even when the
  other side's client lost our Message-IDs and tokens;
- `apply_remote` (run by `gateway.pipeline.steps.federation`): our ticket learns the remote ref, and
  when the mail comes from the partner side of one of our child tickets its
  status follows the remote ticket's (their `resolved` resolves our child,
  which resolves the link and asks for a rating).

The headers are claims made by whoever wrote the mail.  They are only ever
applied to the ticket the mail already threads to: its requester side may
teach it the remote ref, only its executor may move its status.  They never
select, create or change any other ticket, and never set a status the
status machine does not allow.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.desk.tickets import STATUSES, add_event, hosting_account
from parsers.message import ParsedMessage
from storage.models import Account, Ticket
from storage.repositories import parent_link

TICKET_HEADER = "X-Relaydesk-Ticket"
STATUS_HEADER = "X-Relaydesk-Status"
CHAIN_HEADER = "X-Relaydesk-Chain"
EXTERNAL_ID_PREFIX = "relaydesk:"
MAX_CHAIN_ENTRIES = 64
_REF = re.compile(r"^[A-Z][A-Z0-9]{0,9}-\d{1,12}$")
# Remote statuses our child ticket may follow; `new`/`open`/`pending` from the
# executor do not move our ticket (a reply already reopens it by the usual rules).
FOLLOWED_STATUSES = frozenset({"resolved", "closed"})
DONE = frozenset({"resolved", "closed", "cancelled"})


@dataclass(frozen=True)
class ChainHop:
    """One ticket of the other installation's chain."""

    ref: str
    status: str


@dataclass(frozen=True)
class RemoteTicket:
    """What another relaydesk says about its ticket in one mail."""

    ref: str
    status: str | None
    chain: tuple[ChainHop, ...]
    origin: str  # the sender's domain: which installation's numbering `ref` belongs to

    @property
    def external_id(self) -> str:
        return external_id_for(self.origin, self.ref)


def external_id_for(origin: str, remote_ref: str) -> str:
    """How our ticket remembers the other installation's ref."""
    return f"{EXTERNAL_ID_PREFIX}{origin}:{remote_ref}"


def _valid_ref(value: str | None) -> str | None:
    value = (value or "").strip().upper()
    return value if _REF.match(value) else None


def _valid_status(value: str | None) -> str | None:
    value = (value or "").strip().lower()
    return value if value in STATUSES else None


def decode_chain(value: str | None) -> tuple[ChainHop, ...]:
    """`VND-1=open, PTN-1=resolved` → hops; malformed items are skipped, the rest kept."""
    hops: list[ChainHop] = []
    for item in (value or "").split(",")[:MAX_CHAIN_ENTRIES]:
        ref, sep, status = item.partition("=")
        ref, status = _valid_ref(ref), _valid_status(status)
        if sep and ref and status:
            hops.append(ChainHop(ref, status))
    return tuple(hops)


def encode_chain(hops: tuple[ChainHop, ...]) -> str:
    """The inverse of `decode_chain`, for keeping a remote chain in an event's detail.

    Our own header is written from the database by `gateway.desk.chain.chain_headers`.
    """
    return ", ".join(f"{hop.ref}={hop.status}" for hop in hops)


def read_remote(parsed: ParsedMessage) -> RemoteTicket | None:
    """The remote ticket an inbound mail speaks for, or None when it carries no valid ref or sender."""
    ref = _valid_ref(parsed.header(TICKET_HEADER))
    origin = parsed.sender.email.rpartition("@")[2].lower() if parsed.sender and parsed.sender.email else ""
    if ref is None or not origin:
        return None
    chain = decode_chain(parsed.header(CHAIN_HEADER))
    status = _valid_status(parsed.header(STATUS_HEADER))
    if status is None:  # fall back to the ticket's own entry in the chain
        status = next((hop.status for hop in chain if hop.ref == ref), None)
    return RemoteTicket(ref=ref, status=status, chain=chain, origin=origin)


def ticket_for_remote(session: Session, account: Account, parsed: ParsedMessage) -> Ticket | None:
    """Our ticket that learnt the sender installation's ref, among those `account` hosts.

    The threading rule `gateway.pipeline.thread_match.by_remote_ref` asks this; like every
    rule it never looks outside the receiving account.
    """
    remote = read_remote(parsed)
    if remote is None:
        return None
    candidates = session.scalars(
        select(Ticket).where(Ticket.external_id == remote.external_id).order_by(Ticket.id.desc())
    )
    return next((t for t in candidates if hosting_account(session, t).id == account.id), None)


@dataclass(frozen=True)
class RemoteUpdate:
    """What `apply_remote` did to the ticket."""

    learnt_ref: str | None = None
    status_before: str | None = None
    status_after: str | None = None


# Applies a status to a ticket the way a `#status` command from its executor
# would (link transitions, rating request, notices).
StatusChanger = Callable[[Session, Ticket, str, str], None]
Speaker = Literal["executor", "requester"]


def apply_remote(session: Session, ticket: Ticket, parsed: ParsedMessage, speaker: Speaker | None,
                 change_status: StatusChanger) -> RemoteUpdate:
    """Learn the remote ref and follow the remote status, on `ticket` only.

    `ticket` is the ticket the pipeline threaded the mail to; nothing else
    is read from or written to.  `speaker` says which party of the ticket
    sent the mail: only its requester or its executor are heard (anyone
    else's X-Relaydesk-* headers are ignored), and only the executor of a
    child ticket moves its status.  Automatic mail changes nothing.
    """
    remote = read_remote(parsed)
    if remote is None or speaker is None or parsed.kind != "normal":
        return RemoteUpdate()
    sender = parsed.sender.email if parsed.sender else ""
    learnt = None
    if ticket.external_id is None:
        ticket.external_id = remote.external_id
        learnt = remote.ref
        add_event(session, ticket, "remote_ref_learnt", remote_ref=remote.ref, remote_chain=encode_chain(remote.chain),
                  sender=sender)
    elif ticket.external_id != remote.external_id:
        return RemoteUpdate()  # speaks for another remote ticket than the one we know: ignore its claims
    if speaker != "executor" or remote.status not in FOLLOWED_STATUSES or ticket.status in DONE:
        return RemoteUpdate(learnt_ref=learnt)
    if parent_link(session, ticket.id) is None:
        return RemoteUpdate(learnt_ref=learnt)
    before = ticket.status
    change_status(session, ticket, "resolved", sender)
    add_event(session, ticket, "remote_status", remote_ref=remote.ref, remote_status=remote.status,
              remote_chain=encode_chain(remote.chain), by=sender)
    return RemoteUpdate(learnt_ref=learnt, status_before=before, status_after=ticket.status)

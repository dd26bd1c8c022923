"""The contract every pipeline step shares: the `Inbound` context, `Step` and the failures.

Steps import this module, never the runner and never each other (Mailman's
handler interface sits below both the handlers and the pipeline the same way).
A step reads and fills the context; setting `ctx.handled = True` stops the
remaining steps and still marks the item done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import getaddresses
from typing import Any

from sqlalchemy.orm import Session

from gateway.core.config import AccountConfig
from gateway.core.runtime import Runtime
from gateway.desk.tickets import AUTO_KINDS
from gateway.pipeline.history import History
from gateway.pipeline.thread_match import ThreadMatch
from parsers import ParsedMessage
from storage.models import (
    Account,
    InboxItem,
    Link,
    Message,
    OutboxItem,
    Participant,
    Ticket,
)


class Unprocessable(Exception):
    """The item can never be processed as it is (no blob, no hosted recipient): park it at once."""


class Held(Exception):
    """Not yet: the item waits for mail it refers to (kept pending, tried again, never counted as a failure)."""


class StepFailed(Exception):
    """A step raised; carries the step's name for the item's error line."""

    def __init__(self, step: str, cause: Exception) -> None:
        super().__init__(f"{step}: {type(cause).__name__}: {first_line(str(cause))}")
        self.step = step
        self.cause = cause


@dataclass
class Inbound:
    """Everything the steps share about one inbound message.

    Filled in step order:
      runtime, session, item, parsed, hops, history — before the first step (history: None for live mail,
        else the past mail's time and what may still leave; see gateway.pipeline.history);
      recipients — envelope RCPT TO addresses, else To/Cc/Delivered-To (lower-case);
      account / account_config — the hosted account that received it (`receive`);
      other_accounts — further hosted accounts a non-agent wrote to; each gets a run of its own (`receive`);
      match, ticket — which ticket it belongs to, None for a new one (`thread`);
      related — a finished ticket this mail followed up, for linking (`follow_up_finished`);
      new_ticket — True once `open_new_ticket` created the ticket;
      sender_role — requester | agent | partner | cc | None (outsider) (`classify_sender`);
      participant — the sender's participant row on the ticket, if any (`classify_sender`, `open_new_ticket`);
      visibility, unverified — how the message is stored (`classify_sender`, mail commands);
      message — the stored Message (`store_message`);
      outbox — OutboxItems queued so far; their ids are returned for delivery;
      problems — notes kept on the inbox item (what was skipped and why);
      link — the handoff link this mail made or repeated (`handoff_step`);
      handled — set by any step that fully dealt with the item; later steps are skipped.
    """

    runtime: Runtime
    session: Session
    item: InboxItem
    parsed: ParsedMessage
    recipients: tuple[str, ...]
    hops: int
    history: History | None = None
    account: Account | None = None
    account_config: AccountConfig | None = None
    other_accounts: list[Account] = field(default_factory=list)
    match: ThreadMatch | None = None
    ticket: Ticket | None = None
    related: Ticket | None = None
    new_ticket: bool = False
    sender_role: str | None = None
    participant: Participant | None = None
    visibility: str = "public"
    unverified: bool = False
    message: Message | None = None
    outbox: list[OutboxItem] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    link: Link | None = None
    handled: bool = False

    @property
    def sender_email(self) -> str | None:
        return self.parsed.sender.email.lower() if self.parsed.sender and self.parsed.sender.email else None

    @property
    def is_auto(self) -> bool:
        return self.parsed.kind in AUTO_KINDS


Step = Callable[[Inbound], None]


@dataclass(frozen=True)
class Applied:
    """What applying one inbox item produced: notes kept on the item, and the outbox rows to deliver."""

    problems: list[str]
    outbox: list[OutboxItem]


@dataclass(frozen=True)
class ChannelApplier:
    """How the runner handles the items of a channel that is not mail (Telegram updates).

    `parse` turns the raw bytes into the channel's unit (pure, outside the
    transaction); `apply` applies it inside the item's transaction.  The
    application layer hands these to the runner, so the pipeline never
    imports a channel's logic.
    """

    parse: Callable[[bytes], Any]
    apply: Callable[[Runtime, Session, InboxItem, Any], Applied]


def header_recipients(parsed: ParsedMessage) -> tuple[str, ...]:
    """To, Cc and Delivered-To addresses of the mail (lower-case, in order, once each)."""
    delivered = [addr.lower() for _, addr in getaddresses(parsed.headers.get("delivered-to", [])) if addr]
    return tuple(dict.fromkeys([a.email for a in parsed.to + parsed.cc] + delivered))


def copies_key(parsed: object) -> str | None:
    """What copies of one mail take turns on (`skip_duplicate`): its Message-ID; None for a chat update."""
    if isinstance(parsed, ParsedMessage) and parsed.message_id:
        return f"inbound message:{parsed.message_id}"
    return None


def first_line(text: str) -> str:
    """The first non-blank line of an error text, for one-line error records."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else "(no detail)"

"""The API's response shapes: those of `tickets --json` and `show --json` (SPEC §10), and its own lists.

Declared as models so the OpenAPI document says exactly what each answer
holds; the dicts `gateway.desk.views` builds are validated into them, so the CLI
and the API cannot drift apart unnoticed.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["new", "open", "pending", "resolved", "closed", "cancelled"]


class _Out(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class TicketSummary(_Out):
    ref: str
    account: str
    status: str
    subject: str
    parent: str | None
    created_at: str
    updated_at: str


class TicketPage(_Out):
    items: list[TicketSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class Person(_Out):
    name: str
    email: str | None
    telegram: int | None


class Participant(Person):
    role: str


class ChainEntry(_Out):
    ref: str
    account: str
    status: str
    depth: int


class LinkOut(_Out):
    parent: str
    child: str
    state: str
    rating: int | None
    rating_comment: str | None
    accept_due_at: str | None = Field(None, description="Partner terms: when the partner must answer (UTC).")
    resolve_due_at: str | None = Field(None, description="Partner terms: when the partner must resolve (UTC).")
    deadline_state: str | None = Field(
        None, description="on_track | at_risk | breached | met | paused; null when the link runs under no terms.")


class AttachmentOut(_Out):
    filename: str
    content_type: str
    size: int
    sha256: str
    inline: bool
    stored: bool


class MessageOut(_Out):
    id: int
    direction: str
    visibility: str
    channel: str
    message_id: str | None
    from_: str | None = Field(alias="from")
    from_name: str
    to: list[str]
    cc: list[str]
    subject: str
    text: str
    elided: str
    unverified: bool
    attachments: list[AttachmentOut]
    created_at: str


class EventOut(_Out):
    at: str
    type: str
    detail: dict[str, Any]


class OutboundOut(_Out):
    id: int
    kind: str
    channel: str
    recipient: str
    message_id: str | None
    subject: str | None
    status: str
    attempts: int
    error: str | None
    created_at: str
    sent_at: str | None


class TicketDetail(TicketSummary):
    """`relaydesk show REF --json`."""

    requester: Person | None
    asset: str | None
    external_id: str | None
    assignee: str | None
    related: str | None
    children: list[str]
    chain: list[ChainEntry]
    links: list[LinkOut]
    participants: list[Participant]
    messages: list[MessageOut]
    events: list[EventOut]
    outbound: list[OutboundOut]


class LinkTimesOut(_Out):
    state: str
    handed_off_at: str | None
    accepted_at: str | None
    resolved_at: str | None
    rated_at: str | None
    rating: int | None
    rating_comment: str | None
    time_to_accept_seconds: float | None
    time_to_resolve_seconds: float | None
    held_seconds: float | None
    accept_due_at: str | None = Field(None, description="Partner terms: when the partner must answer (UTC).")
    resolve_due_at: str | None = Field(None, description="Partner terms: when the partner must resolve (UTC).")
    deadline_state: str | None = Field(
        None, description="on_track | at_risk | breached | met | paused; null when the link runs under no terms.")


class ChainNodeOut(_Out):
    ref: str
    account: str
    account_name: str
    status: str
    depth: int
    parent: str | None
    children: list[str]
    assignee: str | None
    held_by: str
    created_at: str | None
    time_to_first_response_seconds: float | None
    time_to_resolve_seconds: float | None
    link: LinkTimesOut | None


class ChainOut(_Out):
    """`relaydesk chain REF --json`: the whole chain, root first, with the time held at each link."""

    ref: str
    root: str
    tickets: list[ChainNodeOut]


class Written(_Out):
    """What a write did: the ticket as it is now, and what it queued to go out."""

    ticket: TicketSummary
    message_id: int | None = None
    child: str | None = None
    outbound: int = Field(description="How many mails, chat messages and webhook deliveries were queued.")


class InboxItemOut(_Out):
    id: int
    channel: str
    status: str
    attempts: int
    error: str | None
    problems: list[str]
    received_at: str
    recipients: list[str]
    tickets: list[str] = Field(description="Tickets of the account the item was applied to.")


class FeedEvent(_Out):
    id: int
    at: str
    type: str
    ticket: str
    detail: dict[str, Any]


class EventPage(_Out):
    items: list[FeedEvent]
    next_cursor: str = Field(description="Pass as `cursor` to read on; the same value when nothing is new.")

"""Keeping an inbound mail on its ticket: the message, its files, the people it copied.

Shared by the `store` stage and the bounce stage (a bounce report is kept on
the ticket it concerns), so neither step borrows from the other.
"""

from __future__ import annotations

from gateway.core.tokens import split_plus
from gateway.desk.participants import add_participant, copied_contacts
from gateway.desk.tickets import NewMessage, add_message, store_attachments
from gateway.pipeline.context import Inbound
from storage.repositories import agent_by_email


def store_inbound(ctx: Inbound) -> None:
    """Store the context's mail on `ctx.ticket` as `ctx.visibility`, with its files."""
    parsed = ctx.parsed
    ctx.message = add_message(
        ctx.session,
        ctx.ticket,
        NewMessage.inbound(
            parsed,
            source_key=f"inbox:{ctx.item.id}",
            visibility=ctx.visibility,
            channel=ctx.item.channel,
            inbox_item_id=ctx.item.id,
            raw_sha256=ctx.item.raw_sha256,
            unverified=ctx.unverified,
        ),
    )
    store_attachments(ctx.session, ctx.runtime.blobs, ctx.message, parsed.attachments)


def add_copied_contacts(ctx: Inbound) -> None:
    """To/Cc people other than us, the sender and the account's agents become `cc` participants.

    "Us" is the hosted addresses only: an external account's address (a
    partner, or an upstream customer running its own relaydesk) is a real
    mailbox elsewhere and a contact like any other.
    """
    ours = set(ctx.runtime.config.hosted_addresses)
    exclude = ours | ({ctx.sender_email} if ctx.sender_email else set())
    for address in copied_contacts(ctx.parsed.to + ctx.parsed.cc, exclude):
        base, _, domain = split_plus(address.email)
        if f"{base}@{domain}" in ours or agent_by_email(ctx.session, ctx.ticket.account_id, address.email):
            continue
        add_participant(ctx.session, ctx.ticket, "cc", address)

"""Stage `receive`: which hosted account got the mail, and is it a copy already stored there."""

from __future__ import annotations

from gateway.core.accounts import settings_for
from gateway.core.tokens import split_plus
from gateway.pipeline.context import Inbound, Unprocessable, copies_key
from storage.claims import serialize_on
from storage.models import Account
from storage.repositories import (
    account_by_slug,
    agent_by_email,
    inbound_addresses,
    inbound_message_in_account,
)


def receive(ctx: Inbound) -> None:
    """Find the hosted account the mail was delivered to.

    A channel that knows the account (an IMAP mailbox, `ingest --account`)
    names it in the envelope as `"account": slug` — an agent's Sent folder
    holds mail addressed to partners, not to us.  Otherwise the recipients
    decide (envelope first, then headers): when several hosted accounts are
    addressed, the one the sender works for takes it alone (a dispatcher
    Cc-ing a hosted partner writes as their own account); anyone else wrote
    to each of them, and each gets the mail (`other_accounts`).
    """
    named = (ctx.item.envelope or {}).get("account")
    if named:
        account = account_by_slug(ctx.session, str(named))
        if account is None or account.kind != "hosted":
            raise Unprocessable(f"envelope names {named!r}, which is not a hosted account")
        ctx.account = account
    else:
        ctx.account, *ctx.other_accounts = _addressed_accounts(ctx)
    ctx.account_config = settings_for(ctx.runtime.config, ctx.account)


def _addressed_accounts(ctx: Inbound) -> list[Account]:
    by_base = {}
    for address in ctx.recipients:
        base, _, domain = split_plus(address)
        by_base.setdefault(f"{base}@{domain}", address)
    rows = inbound_addresses(ctx.session, by_base)
    candidates = list({rows[a].account.id: rows[a].account for a in by_base if a in rows}.values())
    if not candidates:
        raise Unprocessable(f"no hosted account owns any recipient address ({', '.join(ctx.recipients) or 'none'})")
    sender = ctx.sender_email
    own = [a for a in candidates if sender and agent_by_email(ctx.session, a.id, sender)]
    return own[:1] or candidates


def skip_duplicate(ctx: Inbound) -> None:
    """The same mail seen by a second channel (SMTP Cc and IMAP Sent) is stored once.

    Copies of one mail often arrive together (a sender's MTA delivers one
    copy per recipient domain), and on PostgreSQL two workers would each
    find nothing yet: they take turns on the Message-ID, so the second sees
    what the first stored.
    """
    message_id = ctx.parsed.message_id
    if not message_id:
        return
    serialize_on(ctx.session, copies_key(ctx.parsed))  # usually taken already, with the inbox row
    if inbound_message_in_account(ctx.session, ctx.account.id, message_id) is not None:
        ctx.problems.append(f"duplicate of an already stored message {message_id}")
        ctx.handled = True

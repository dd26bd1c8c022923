"""Error replies: one clear reply per address and reason per day, never to machines or ourselves."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from gateway.core.runtime import Runtime
from gateway.desk.participants import add_participant
from gateway.desk.tickets import open_ticket
from gateway.flows.rejections import (
    BadRating,
    NotAuthorised,
    Rejection,
    UnknownCommand,
    UnknownPartner,
    queue_rejection,
)
from gateway.outbound.outbox import rendered_mail
from parsers import parse_message
from parsers.message import Address, ParsedMessage
from storage.models import Account, OutboxItem, Ticket, utcnow
from tests.at_once import run_at_once


def mail(sender: str, *headers: str) -> ParsedMessage:
    head = "\r\n".join((f"From: {sender}", "To: support@vendor.example", "Subject: Re: [VND-1] Printer",
                        "Message-ID: <cmd-1@vendor.example>", *headers))
    return parse_message(f"{head}\r\n\r\n#frobnicate now\r\n".encode())


def reject(runtime: Runtime, to: str, error: Rejection, parsed: ParsedMessage) -> OutboxItem | None:
    with runtime.db.transaction() as session:
        ticket = session.scalar(select(Ticket).order_by(Ticket.id).limit(1))
        if ticket is None:
            vendor = session.scalar(select(Account).where(Account.slug == "vendor"))
            ticket = open_ticket(session, vendor, "Printer")
            add_participant(session, ticket, "requester", Address("Alice", "alice@client.example"))
        return queue_rejection(session, runtime, to, error, parsed, ticket)


def test_error_reply_to_an_agent(relay_runtime: Runtime) -> None:
    item = reject(relay_runtime, "dana@vendor.example", UnknownCommand("#frobnicate"), mail("dana@vendor.example"))
    assert item is not None and item.kind == "error" and item.payload["reason"] == "unknown_command"
    assert item.recipient == "dana@vendor.example"
    body = rendered_mail(relay_runtime.blobs, item).decode()
    assert 'does not know the command "#frobnicate"' in body
    assert "In-Reply-To: <cmd-1@vendor.example>" in body
    assert "Auto-Submitted: auto-replied" in body
    assert "X-Relaydesk-Hops: 1" in body
    assert "Subject: [VND-1] Not applied: Printer\r\n" in body


def test_one_per_address_and_reason_per_day(relay_runtime: Runtime) -> None:
    agent = mail("dana@vendor.example")
    assert reject(relay_runtime, "dana@vendor.example", UnknownCommand("#a"), agent) is not None
    assert reject(relay_runtime, "dana@vendor.example", UnknownCommand("#b"), agent) is None
    assert reject(relay_runtime, "dana@vendor.example", BadRating("nine"), agent) is not None
    assert reject(relay_runtime, "alice@client.example", UnknownCommand("#a"), mail("alice@client.example")) is not None
    with relay_runtime.db.transaction() as session:
        for item in session.scalars(select(OutboxItem)):
            item.created_at = utcnow() - timedelta(days=1, minutes=1)
    assert reject(relay_runtime, "dana@vendor.example", UnknownCommand("#c"), agent) is not None


@pytest.mark.parametrize("header", ["Auto-Submitted: auto-replied", "Precedence: list", "X-Relaydesk-Hops: 8"])
def test_never_to_automatic_or_looping_mail(relay_runtime: Runtime, header: str) -> None:
    assert reject(relay_runtime, "dana@vendor.example", UnknownCommand("#x"), mail("dana@vendor.example", header)) is None


def test_never_to_a_bounce(relay_runtime: Runtime) -> None:
    bounce = mail("MAILER-DAEMON@client.example", "Content-Type: text/plain")
    assert bounce.kind == "bounce"
    assert reject(relay_runtime, "mailer-daemon@client.example", NotAuthorised("#status"), bounce) is None


def test_never_to_our_own_addresses(relay_runtime: Runtime) -> None:
    assert reject(relay_runtime, "support+x@vendor.example", UnknownPartner("acme"), mail("support@vendor.example")) is None


def test_never_to_strangers(relay_runtime: Runtime) -> None:
    assert reject(relay_runtime, "mallory@evil.example", NotAuthorised("#status"), mail("mallory@evil.example")) is None
    with relay_runtime.db.transaction() as session:
        assert session.scalar(select(OutboxItem).limit(1)) is None


def test_every_reason_has_its_own_text() -> None:
    reasons = {cls.reason: cls("x").reply_text() for cls in Rejection.__subclasses__()}
    assert len(reasons) == len(Rejection.__subclasses__()) >= 9
    assert all(text and "{" not in text for text in reasons.values())


def test_two_workers_rejecting_at_once_send_one_reply(relay_runtime: Runtime) -> None:
    """On PostgreSQL both decide in open transactions at once; the second waits and sees the first's reply."""
    reject(relay_runtime, "nobody@client.example", UnknownCommand("#x"), mail("alice@client.example"))  # the ticket
    def worker() -> OutboxItem | None:
        with relay_runtime.db.transaction() as session:
            ticket = session.scalar(select(Ticket).order_by(Ticket.id).limit(1))
            return queue_rejection(session, relay_runtime, "alice@client.example", UnknownCommand("#y"),
                                   mail("alice@client.example"), ticket)

    replies = run_at_once(worker, [(), ()])
    assert sum(item is not None for item in replies) == 1
    with relay_runtime.db.transaction() as session:
        sent = session.scalars(select(OutboxItem).where(OutboxItem.recipient == "alice@client.example")).all()
    assert len(sent) == 1

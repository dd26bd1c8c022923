"""Send numbered customer mails and check what became of them, for the end-to-end tests."""

from __future__ import annotations

import smtplib
import time
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select

from gateway.core.runtime import Runtime
from storage.models import InboxItem, Message, OutboxItem, Ticket
from tests.smtp_sink import SunkMail

SUPPORT = "support@vendor.example"


def customer(i: int) -> str:
    return f"customer{i}@client.example"


def message_id(i: int) -> str:
    return f"<request-{i}@client.example>"


def customer_mail(i: int) -> bytes:
    """Mail number `i`: its own sender (so acknowledgements are not rate limited) and Message-ID."""
    return (
        f"From: Customer {i} <{customer(i)}>\r\nTo: {SUPPORT}\r\nSubject: Request {i}: printer jams\r\n"
        f"Message-ID: {message_id(i)}\r\nDate: Sun, 22 Nov 2026 10:00:00 +0000\r\n\r\n"
        f"Printer number {i} jams on tray 2.\r\n"
    ).encode()


def send_mails(port: int, numbers: range) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
        for i in numbers:
            client.sendmail(customer(i), [SUPPORT], customer_mail(i))


def wait_settled(runtime: Runtime, expected_inbox: int, timeout: float = 90.0) -> None:
    """Until every expected inbox item is done and no outbox item is pending."""
    deadline = time.monotonic() + timeout
    while True:
        with runtime.db.transaction() as session:
            states = dict(session.execute(select(InboxItem.status, func.count()).group_by(InboxItem.status)).all())
            outbox_pending = session.scalar(select(func.count()).where(OutboxItem.status == "pending"))
        if states.get("done", 0) >= expected_inbox and not states.get("pending") and not outbox_pending:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not settled after {timeout}s: inbox {states}, outbox pending {outbox_pending}")
        time.sleep(0.25)


@dataclass
class Outcome:
    tickets: int
    messages_by_rfc_id: Counter[str]
    tickets_by_rfc_id: dict[str, set[int]]
    parked: list[tuple[int, str | None]]
    acks_sent: int


def read_outcome(runtime: Runtime) -> Outcome:
    with runtime.db.transaction() as session:
        rows = session.execute(select(Message.rfc_message_id, Message.ticket_id).where(Message.direction == "in")).all()
        by_ticket: dict[str, set[int]] = {}
        for rfc_id, ticket_id in rows:
            by_ticket.setdefault(rfc_id, set()).add(ticket_id)
        return Outcome(
            tickets=session.scalar(select(func.count()).select_from(Ticket)),
            messages_by_rfc_id=Counter(rfc_id for rfc_id, _ in rows),
            tickets_by_rfc_id=by_ticket,
            parked=list(session.execute(select(InboxItem.id, InboxItem.error).where(InboxItem.status != "done")).all()),
            acks_sent=session.scalar(
                select(func.count()).where(OutboxItem.kind == "ack", OutboxItem.status == "sent")
            ),
        )


def acks_by_recipient(mails: list[SunkMail]) -> Counter[str]:
    return Counter(rcpt for mail in mails for rcpt in mail.rcpt_tos)


def assert_each_mail_once(runtime: Runtime, numbers: range, acks: int | None = None) -> None:
    """Every mail is one inbound message on one ticket of its own; `acks` sent (default: one per mail)."""
    outcome = read_outcome(runtime)
    assert outcome.parked == []
    assert outcome.tickets == len(numbers)
    for i in numbers:
        assert outcome.messages_by_rfc_id[message_id(i)] == 1, f"mail {i} stored {outcome.messages_by_rfc_id[message_id(i)]} times"
        assert len(outcome.tickets_by_rfc_id[message_id(i)]) == 1
    assert outcome.acks_sent == (len(numbers) if acks is None else acks)

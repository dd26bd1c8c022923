"""How many SQL statements and transactions the pipeline spends per mail, with ceilings so they cannot creep back.

Throughput is bounded by round trips to the database: each statement is
one, and each transaction adds a commit (and an fsync on SQLite).  Counted
with SQLAlchemy's `before_cursor_execute` (every statement sent, ORM or
not) and `begin`; BEGIN/SAVEPOINT/RELEASE themselves are not counted as
statements (SQLite's BEGIN IMMEDIATE is ours, PostgreSQL's is the driver's),
transactions are, and neither is SQLite's PRAGMA (a setting of the
connection inside this process, no I/O).  PostgreSQL's SET is counted.  Settings-derived rows (accounts, addresses, agents) are
warm, as in a running worker.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import event

from gateway.channels.intake import accept_raw
from gateway.core.runtime import Runtime
from gateway.pipeline.runner import process_inbox_item
from tests.flows import mails
from tests.flows.world import PAUL, dana_forwards_to_partner, outbox, sent_mail

# Ceilings per applied mail; lower them when a change makes them smaller.
NEW_TICKET_WITH_ACK = (12, 2)
CUSTOMER_REPLY = (13, 2)
MIRRORED_PARTNER_REPLY = (44, 2)

_CONTROL = ("BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT", "PRAGMA")


@dataclass
class Count:
    statements: int = 0
    transactions: int = 0


@contextmanager
def counting(runtime: Runtime) -> Iterator[Count]:
    count = Count()

    def on_statement(conn, cursor, statement: str, *args: object) -> None:  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith(_CONTROL):
            count.statements += 1

    def on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        count.transactions += 1

    engine = runtime.db.engine
    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine, "begin", on_begin)
    try:
        yield count
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(engine, "begin", on_begin)


def applied(runtime: Runtime, raw: bytes, rcpt: list[str]) -> tuple[Count, list[int]]:
    """Store `raw` (not counted), then count what applying it costs."""
    inbox_id = accept_raw(runtime, "smtp", raw, {"mail_from": "", "rcpt_tos": rcpt})
    with counting(runtime) as count:
        queued = process_inbox_item(runtime, inbox_id)
    return count, queued


def customer(n: int, **kwargs: object) -> bytes:
    return mails.customer_mail(sender=f"Customer {n} <c{n}@client.example>", message_id=f"<c{n}@client.example>",
                               with_pdf=False, **kwargs)


def within(count: Count, ceiling: tuple[int, int], what: str) -> None:
    statements, transactions = ceiling
    assert count.statements <= statements, f"{what}: {count.statements} SQL statements (ceiling {statements})"
    assert count.transactions <= transactions, f"{what}: {count.transactions} transactions (ceiling {transactions})"


def test_new_ticket_and_reply(runtime: Runtime) -> None:
    applied(runtime, customer(0), ["support@vendor.example"])  # warm: the first mail loads settings rows

    count, queued = applied(runtime, customer(1), ["support@vendor.example"])
    assert len(queued) == 1, "a new ticket is acknowledged"
    within(count, NEW_TICKET_WITH_ACK, "a new ticket with its acknowledgement")

    reply = mails.reply(sender="Customer 1 <c1@client.example>", to=["support@vendor.example"],
                        subject="Re: Printer jams on tray 2", text="It also happens on tray 1.",
                        answered="<c1@client.example>", answered_from="Customer 1 <c1@client.example>",
                        answered_text="the printer jams")
    count, queued = applied(runtime, reply, ["support@vendor.example"])
    assert queued == [], "a customer's reply is stored, not answered"
    within(count, CUSTOMER_REPLY, "a customer's reply")


def test_mirrored_partner_reply(runtime: Runtime) -> None:
    applied(runtime, mails.customer_mail(sender="Alice Customer <alice@client.example>", with_pdf=False),
            ["support@vendor.example"])
    dana_forwards_to_partner(runtime)
    notice = outbox(runtime)[-1]
    assert notice.recipient == "paul@partner.example"
    sent = sent_mail(runtime, notice)
    reply_to = sent["Reply-To"].addresses[0].addr_spec
    raw = mails.reply(sender=PAUL, to=[reply_to], subject=str(sent["Subject"]), text="Technician booked.",
                      answered=str(sent["Message-ID"]), answered_from=str(sent["From"]), answered_text="notice",
                      references=str(sent.get("References", "")).split())

    count, queued = applied(runtime, raw, [reply_to])
    assert "alice@client.example" in [row.recipient for row in outbox(runtime) if row.id in queued]
    within(count, MIRRORED_PARTNER_REPLY, "a partner's reply mirrored and relayed to the customer")

"""Races: two workers on one item store one message; concurrent writers number tickets gap-free."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

from sqlalchemy import select

from gateway.channels.intake import accept_raw
from gateway.core.runtime import Runtime
from gateway.desk.tickets import open_ticket
from gateway.pipeline.context import copies_key
from gateway.pipeline.runner import parse_options, process_inbox_item
from parsers import parse_message
from storage.models import InboxItem, Message, OutboxItem, Ticket
from storage.claims import take_pending_inbox_item
from storage.repositories import account_by_slug
from tests.at_once import run_at_once
from tests.conftest import demo_config
from tests.pipeline.mail import mail

WRITERS = 4
TICKETS_EACH = 10


def test_two_workers_racing_on_one_item_store_one_message(runtime) -> None:
    inbox_id = accept_raw(runtime, channel="smtp", raw=mail(), envelope={"rcpt_tos": ["support@vendor.example"]})

    results = run_at_once(process_inbox_item, [(runtime, inbox_id)] * 2)

    assert sorted(len(r) for r in results) == [0, 1]
    with runtime.db.transaction() as session:
        assert len(list(session.scalars(select(Message)))) == 1
        assert len(list(session.scalars(select(OutboxItem)))) == 1


def _open_tickets(db_url: str, data_dir: str, barrier) -> None:  # type: ignore[no-untyped-def]
    runtime = Runtime.open(demo_config(Path(data_dir), db_url), migrate=False)
    try:
        barrier.wait()
        for _ in range(TICKETS_EACH):
            with runtime.db.transaction() as session:
                open_ticket(session, account_by_slug(session, "vendor"), "race")
    finally:
        runtime.close()


def test_concurrent_processes_number_tickets_without_gaps_or_repeats(runtime, db_url, tmp_path) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WRITERS)
    writers = [context.Process(target=_open_tickets, args=(db_url, str(tmp_path), barrier)) for _ in range(WRITERS)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=120)
    assert [w.exitcode for w in writers] == [0] * WRITERS
    with runtime.db.transaction() as session:
        refs = list(session.scalars(select(Ticket.ref)))
        vendor = account_by_slug(session, "vendor")
        assert vendor.last_number == WRITERS * TICKETS_EACH
    assert sorted(refs) == sorted(f"VND-{n}" for n in range(1, WRITERS * TICKETS_EACH + 1))


def test_two_first_mails_from_one_sender_processed_at_once_get_one_ack(runtime) -> None:
    ids = [accept_raw(runtime, channel="smtp", raw=mail(subject=f"Problem {n}"),
                      envelope={"rcpt_tos": ["support@vendor.example"]}) for n in range(2)]
    run_at_once(process_inbox_item, [(runtime, i) for i in ids])
    with runtime.db.transaction() as session:
        assert len(list(session.scalars(select(Ticket)))) == 2
        assert [o.kind for o in session.scalars(select(OutboxItem))] == ["ack"]


def test_copies_of_one_mail_take_turns_from_the_take_of_the_first(runtime) -> None:
    """The second copy waits while the first copy's transaction holds its inbox row, then finds it stored."""
    raw = mail(message_id="<copy@client.example>")
    first, second = (accept_raw(runtime, channel=channel, raw=raw, envelope={"rcpt_tos": ["support@vendor.example"]})
                     for channel in ("smtp", "imap"))
    parsed = parse_message(raw, parse_options(runtime))
    finished = threading.Event()
    worker = threading.Thread(target=lambda: (process_inbox_item(runtime, second), finished.set()))
    with runtime.db.transaction() as session:
        assert take_pending_inbox_item(session, first, copies_key(parsed)) is not None
        worker.start()
        waited = not finished.wait(1.0)
        session.rollback()  # the first copy's run fails: its item stays pending
    worker.join(30)
    if runtime.db.dialect == "postgresql":
        assert waited, "the second copy ran while the first copy's transaction was open"
    process_inbox_item(runtime, first)
    with runtime.db.transaction() as session:
        assert len(list(session.scalars(select(Message)))) == 1
        problems = session.get(InboxItem, first).problems
    assert any("duplicate" in p for p in problems)

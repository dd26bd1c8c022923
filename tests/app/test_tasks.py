"""Actors on the embedded broker with an in-process worker, and the sweeper."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from gateway.app import tasks
from gateway.app.broker import make_broker, make_worker
from gateway.channels.intake import accept_raw
from gateway.core.runtime import Runtime
from storage.models import InboxItem, OutboxItem, Ticket, utcnow
from tests.conftest import demo_config
from tests.smtp_sink import SmtpSink

ENVELOPE = {"mail_from": "alice@client.example", "rcpt_tos": ["support@vendor.example"]}


def raw_mail(n: int) -> bytes:
    return (
        f"From: alice{n}@client.example\r\nTo: support@vendor.example\r\nSubject: Printer {n} jams\r\n"
        f"Message-ID: <task-{n}@client.example>\r\n\r\nTray 2.\r\n"
    ).encode()


@pytest.fixture
def desk(db_url: str, tmp_path: Path, sink: SmtpSink) -> Iterator[Runtime]:
    runtime = Runtime.open(demo_config(tmp_path, db_url, sink_port=sink.port, outbound={"retry_base_seconds": 1}))
    yield runtime
    tasks.unbind()
    runtime.close()


@pytest.fixture
def worker_for(desk: Runtime) -> Iterator:
    """Start an embedded broker + worker bound to `desk`; stopped after the test."""
    started = []

    def start() -> tasks.TaskQueue:
        queue = tasks.bind(desk, make_broker(desk.config.queue))
        worker = make_worker(queue.broker, 2)
        worker.start()
        started.append(worker)
        return queue

    yield start
    for worker in started:
        worker.stop(timeout=10_000)


def test_enqueued_inbox_item_becomes_ticket_and_acknowledgement(desk: Runtime, worker_for, sink: SmtpSink) -> None:
    worker_for()
    inbox_id = accept_raw(desk, "smtp", raw_mail(1), {**ENVELOPE, "mail_from": "alice1@client.example"})
    tasks.enqueue_inbox(inbox_id)
    [ack] = sink.wait_for(1)
    assert ack.rcpt_tos == ("alice1@client.example",)
    with desk.db.transaction() as session:
        assert session.get(InboxItem, inbox_id).status == "done"
        assert session.scalar(select(Ticket.ref)) == "VND-1"


def test_the_mails_of_one_commit_travel_in_one_message_and_all_become_tickets(desk: Runtime, worker_for,
                                                                            sink: SmtpSink, monkeypatch) -> None:
    queue = worker_for()
    sent: list[tuple] = []
    real_send = queue.process_inbox.send
    monkeypatch.setattr(queue.process_inbox, "send", lambda *args: sent.append(args) or real_send(*args))
    ids = [accept_raw(desk, "smtp", raw_mail(n), {**ENVELOPE, "mail_from": f"alice{n}@client.example"})
           for n in (1, 2, 3)]
    tasks.enqueue_inbox(*ids)
    acks = sink.wait_for(3)
    assert sent == [tuple(ids)]
    assert sorted(ack.rcpt_tos for ack in acks) == [(f"alice{n}@client.example",) for n in (1, 2, 3)]
    with desk.db.transaction() as session:
        assert [session.get(InboxItem, i).status for i in ids] == ["done"] * 3
        assert sorted(session.scalars(select(Ticket.ref))) == ["VND-1", "VND-2", "VND-3"]


def test_delivery_retry_is_re_enqueued_and_failure_notices_are_sent(desk: Runtime, worker_for, monkeypatch) -> None:
    calls: list[int] = []

    def deliver(runtime: Runtime, outbox_id: int, on_queued=None) -> float | None:
        calls.append(outbox_id)
        if calls.count(42) == 1:
            return 0.2  # transient: try again shortly
        if outbox_id == 42:
            on_queued(43)  # failed for good: a notice to the agents was queued
        return None

    monkeypatch.setattr(tasks.delivery, "deliver", deliver)
    queue = worker_for()
    queue.enqueue_outbox(42)
    queue.broker.join(tasks.OUTBOX_QUEUE, timeout=10_000)
    assert calls == [42, 42, 43]


def test_enqueue_without_a_queue_in_the_process_only_logs(desk: Runtime, caplog) -> None:
    caplog.set_level(logging.INFO, logger="gateway.app.tasks")
    tasks.unbind()
    inbox_id = accept_raw(desk, "cli", raw_mail(2), ENVELOPE, dedupe_key="k")
    tasks.enqueue_inbox(inbox_id)
    assert f"inbox items {inbox_id} stored; no queue in this process, a worker's sweeper will pick them up" in caplog.text
    with desk.db.transaction() as session:
        assert session.get(InboxItem, inbox_id).status == "pending"


class RecordingQueue:
    """Stands in for the broker: the sweeper's only effect is what it enqueues."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.inbox: list[int] = []
        self.outbox: list[int] = []

    def enqueue_inbox(self, inbox_id: int) -> None:
        self.inbox.append(inbox_id)

    def enqueue_outbox(self, outbox_id: int, delay_seconds: float | None = None) -> None:
        self.outbox.append(outbox_id)


def _age(runtime: Runtime, inbox_id: int, seconds: float) -> None:
    with runtime.db.transaction() as session:
        session.execute(update(InboxItem).where(InboxItem.id == inbox_id)
                        .values(updated_at=utcnow() - timedelta(seconds=seconds)))


def test_sweeper_takes_stale_pending_items_once_per_period(desk: Runtime) -> None:
    stale = accept_raw(desk, "smtp", raw_mail(3), ENVELOPE)
    fresh = accept_raw(desk, "smtp", raw_mail(4), ENVELOPE)
    done = accept_raw(desk, "smtp", raw_mail(5), ENVELOPE)
    _age(desk, stale, 120)
    _age(desk, done, 120)
    with desk.db.transaction() as session:
        session.get(InboxItem, done).status = "done"
    queue = RecordingQueue(desk)
    sweeper = tasks.Sweeper(queue, interval=3600, stale_after=60)  # type: ignore[arg-type]
    assert sweeper.sweep(max_age=sweeper.stale_after) == (1, 0)
    assert sweeper.sweep(max_age=sweeper.stale_after) == (0, 0)  # claimed: not again within the period
    assert queue.inbox == [stale]
    assert sweeper.sweep(max_age=timedelta(0)) == (2, 0)  # start-up sweep with the embedded broker
    assert sorted(queue.inbox) == sorted([stale, stale, fresh])


def test_sweeper_takes_due_outbox_items_but_not_future_retries(desk: Runtime, sink: SmtpSink) -> None:
    from gateway.pipeline import runner

    inbox_id = accept_raw(desk, "smtp", raw_mail(6), {**ENVELOPE, "mail_from": "alice6@client.example"})
    [ack_id] = runner.process_inbox_item(desk, inbox_id)  # the acknowledgement, never enqueued
    queue = RecordingQueue(desk)
    sweeper = tasks.Sweeper(queue, interval=3600, stale_after=60)  # type: ignore[arg-type]
    assert sweeper.sweep(max_age=timedelta(0)) == (0, 1)
    assert queue.outbox == [ack_id]
    with desk.db.transaction() as session:
        session.get(OutboxItem, ack_id).next_attempt_at = utcnow() + timedelta(minutes=5)
    assert sweeper.sweep(max_age=timedelta(0)) == (0, 0)


def test_sweeper_thread_recovers_work_nobody_enqueued(desk: Runtime, worker_for, sink: SmtpSink) -> None:
    queue = worker_for()
    accept_raw(desk, "smtp", raw_mail(7), {**ENVELOPE, "mail_from": "alice7@client.example"})
    sweeper = tasks.Sweeper(queue, interval=0.2, stale_after=60)
    sweeper.start(everything_pending=True)
    try:
        [ack] = sink.wait_for(1)
    finally:
        sweeper.stop()
    assert ack.rcpt_tos == ("alice7@client.example",)

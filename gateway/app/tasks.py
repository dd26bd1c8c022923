"""Dramatiq actors for the two kinds of work, and the sweeper.

`process_inbox(*inbox_ids)` runs the pipeline on each inbox row it names
(the mails of one intake commit travel in one message) and enqueues a
delivery for each outbox row they created; `deliver_outbox(outbox_id)` hands
one outbox row to its transport, re-enqueues itself with a delay when the
transport asks for a retry, and enqueues the failure notices a permanent
failure queues for the agents.

Actors are declared on the broker a process builds at start (`bind`), with
the process's Runtime captured, so no module reads global config.  The
broker is never the only copy of any work: inbox and outbox rows are
committed before they are enqueued, and the `Sweeper` re-enqueues rows that
stayed pending too long — after a crash, a lost message, or with the
embedded broker whose queue dies with the process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Protocol

import dramatiq
from sqlalchemy import select, update
from sqlalchemy.orm import InstrumentedAttribute

from gateway.app import processing
from gateway.app.background import BackgroundLoop
from gateway.app.broker import is_broker_unavailable
from gateway.core.runtime import Runtime
from gateway.outbound import delivery
from storage.availability import is_unavailable
from storage.models import InboxItem, OutboxItem

log = logging.getLogger(__name__)

INBOX_QUEUE = "inbox"
OUTBOX_QUEUE = "outbox"
# Unexpected exceptions (database briefly down) get a few quick broker-level
# retries; after that the sweeper is the safety net.
_ACTOR_OPTIONS = {"max_retries": 3, "min_backoff": 1_000, "max_backoff": 30_000}


@dataclass
class TaskQueue:
    """The actors of one process, bound to its Runtime and broker."""

    runtime: Runtime
    broker: dramatiq.Broker
    process_inbox: dramatiq.Actor = field(init=False)
    deliver_outbox: dramatiq.Actor = field(init=False)

    def __post_init__(self) -> None:
        self.broker.add_middleware(delivery.ClosesKeptConnections())
        self.process_inbox = dramatiq.actor(
            self._process_inbox, actor_name="process_inbox", queue_name=INBOX_QUEUE,
            broker=self.broker, **_ACTOR_OPTIONS,
        )
        self.deliver_outbox = dramatiq.actor(
            self._deliver_outbox, actor_name="deliver_outbox", queue_name=OUTBOX_QUEUE,
            broker=self.broker, **_ACTOR_OPTIONS,
        )

    def enqueue_inbox(self, *inbox_ids: int) -> None:
        """One message for the rows of one commit: a broker round trip for a group of mails, not each."""
        self.process_inbox.send(*inbox_ids)

    def enqueue_outbox(self, outbox_id: int, delay_seconds: float | None = None) -> None:
        delay_ms = int(delay_seconds * 1000) if delay_seconds and delay_seconds > 0 else None
        self.deliver_outbox.send_with_options(args=(outbox_id,), delay=delay_ms)

    def _process_inbox(self, *inbox_ids: int) -> None:
        # A retry of the message passes the rows already done at once (the pipeline is idempotent per row).
        for inbox_id in inbox_ids:
            with _retried_while_database_unavailable():
                outbox_ids = processing.process_inbox_item(self.runtime, inbox_id)
            for outbox_id in outbox_ids:
                self.enqueue_outbox(outbox_id)

    def _deliver_outbox(self, outbox_id: int) -> None:
        with _retried_while_database_unavailable():
            retry_in = delivery.deliver(self.runtime, outbox_id, on_queued=self.enqueue_outbox)
        if retry_in is not None:
            self.enqueue_outbox(outbox_id, delay_seconds=retry_in)


@contextmanager
def _retried_while_database_unavailable() -> Iterator[None]:
    """An unreachable database is retried by the broker without a traceback per try (the outage is logged once)."""
    try:
        yield
    except Exception as exc:
        if is_unavailable(exc):
            raise dramatiq.Retry("the database is unavailable") from exc
        raise


_bound: "Enqueuer | None" = None


def bind(runtime: Runtime, broker: dramatiq.Broker) -> TaskQueue:
    """Declare the actors on `broker` for `runtime`; the process's channels enqueue through it."""
    global _bound
    _bound = TaskQueue(runtime, broker)
    return _bound


class Enqueuer(Protocol):
    """What a process hands work to: its own actors (`TaskQueue`), or the pipeline process of `serve`."""

    def enqueue_inbox(self, *inbox_ids: int) -> None: ...

    def enqueue_outbox(self, outbox_id: int, delay_seconds: float | None = None) -> None: ...


def bind_enqueuer(enqueuer: Enqueuer) -> None:
    """Send this process's `enqueue_inbox`/`enqueue_outbox` to `enqueuer` (a process without actors of its own)."""
    global _bound
    _bound = enqueuer


def unbind() -> None:
    """Forget the process binding (at shutdown, and between tests)."""
    global _bound
    _bound = None


def enqueue_inbox(*inbox_ids: int) -> None:
    """Ask a worker to process committed inbox rows (those of one commit, in one message).

    Never raises: the row is already durable, so a broker that is down or a
    process without a queue (a one-off CLI import with the embedded broker)
    only delays the work until a sweeper finds the row.
    """
    items = ", ".join(map(str, inbox_ids))
    if _bound is None:
        log.info("inbox items %s stored; no queue in this process, a worker's sweeper will pick them up", items)
        return
    try:
        _bound.enqueue_inbox(*inbox_ids)
    except Exception as exc:  # the sweeper re-enqueues them
        log.warning("inbox items %s stored but not enqueued (%s); the sweeper will retry", items, exc)


def enqueue_outbox(outbox_id: int) -> None:
    """Ask a worker to deliver a committed outbox row (mail queued outside the pipeline: the web desk).

    Never raises, for the same reason as `enqueue_inbox`: the row is durable,
    and a sweeper delivers it if this process has no queue or the broker is down.
    """
    if _bound is None:
        log.info("outbox item %s stored; no queue in this process, a worker's sweeper will deliver it", outbox_id)
        return
    try:
        _bound.enqueue_outbox(outbox_id)
    except Exception as exc:  # the sweeper re-enqueues it
        log.warning("outbox item %s stored but not enqueued (%s); the sweeper will retry", outbox_id, exc)


class Sweeper:
    """Re-enqueues work that stayed pending, so nothing waits on a lost broker message.

    Each sweep *claims* the rows it re-enqueues (inbox: `updated_at`, outbox:
    `next_attempt_at` moved to now) inside a `FOR UPDATE SKIP LOCKED`
    select, so several workers sweeping one database do not all enqueue the
    same row, and a row waiting in a long queue is enqueued again at most
    once per `stale_after_seconds`.
    """

    BATCH = 500

    def __init__(self, queue: TaskQueue, *, interval: float, stale_after: float) -> None:
        self.queue = queue
        self.interval = interval
        self.stale_after = timedelta(seconds=stale_after)
        self._loop = BackgroundLoop("relaydesk-sweeper", lambda: self.sweep(max_age=self.stale_after),
                                    interval=interval, failed=self._failed)

    def start(self, *, everything_pending: bool) -> None:
        """Sweep once now, then every `interval` seconds in a background thread.

        `everything_pending` makes the first sweep take fresh rows too: with
        the embedded broker, whatever was queued before this process started
        died with the previous process.
        """
        self.sweep(max_age=timedelta(0) if everything_pending else self.stale_after)
        self._loop.start()

    def stop(self) -> None:
        self._loop.stop()

    def _failed(self, exc: Exception) -> None:
        if is_unavailable(exc):  # an outage is logged once, by the database
            return
        if is_broker_unavailable(exc):
            log.warning("sweep: the broker is unavailable (%s); trying again in %s s", exc, self.interval)
        else:
            log.exception("sweep failed; trying again in %s s", self.interval)

    def sweep(self, *, max_age: timedelta) -> tuple[int, int]:
        """Re-enqueue pending rows older than `max_age`; returns (inbox, outbox) counts."""
        inbox = self._claim_and_enqueue(InboxItem.updated_at, self.queue.enqueue_inbox, max_age)
        outbox = self._claim_and_enqueue(OutboxItem.next_attempt_at, self.queue.enqueue_outbox, max_age)
        if inbox or outbox:
            log.info("sweeper re-enqueued %d inbox and %d outbox items", inbox, outbox)
        return inbox, outbox

    def _claim_and_enqueue(self, due: InstrumentedAttribute, enqueue: Callable[[int], None], max_age: timedelta) -> int:
        """Claim pending rows whose `due` time is older than `max_age` by moving it to now, then enqueue them."""
        model = due.class_
        total, after_id = 0, 0
        while True:
            now = datetime.now(timezone.utc)
            with self.queue.runtime.db.transaction() as session:
                ids = list(session.scalars(
                    select(model.id)
                    .where(model.status == "pending", due <= now - max_age, model.id > after_id)
                    .order_by(model.id).limit(self.BATCH)
                    .with_for_update(skip_locked=True)
                ))
                if ids:
                    session.execute(update(model).where(model.id.in_(ids)).values({due.key: now}))
            for item_id in ids:
                enqueue(item_id)
            total += len(ids)
            if len(ids) < self.BATCH:
                return total
            after_id = ids[-1]

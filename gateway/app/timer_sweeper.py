"""Fire due timers (reminders, breaches, digests) exactly once, from whichever worker is up.

Every worker process runs one `TimerSweeper`.  A sweep takes the due
timers with `SELECT … FOR UPDATE SKIP LOCKED` (another worker sweeping at
the same moment skips the rows this one holds), runs each timer's handler
and deletes the timer in the same transaction as the mail and changes the
handler made.  A worker killed half-way leaves nothing: its transaction is
rolled back, its row locks are released, and the next sweep of any worker
takes the timers again.  On SQLite the single writer gives the same
guarantee.  Timers that fell due while every process was down are simply
due at the first sweep, and fire once.

A handler that raises rolls back its batch; the batch is then fired one
timer per transaction so the others are not held up, and the failing
timer is tried again later (`RETRY_SECONDS`), up to `MAX_ATTEMPTS`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Row, delete, select
from sqlalchemy.orm import Session

from gateway.app.background import BackgroundLoop
from gateway.core import clock
from gateway.core.runtime import Runtime
from gateway.desk.webhook_events import take_queued
from storage.availability import is_unavailable
from storage.deadline_models import Timer
from storage.models import OutboxItem

log = logging.getLogger(__name__)

PENDING, FAILED = "pending", "failed"
MAX_ATTEMPTS = 5
RETRY_SECONDS = 60.0


Handler = Callable[[Session, Runtime, Row, datetime], "Sequence[OutboxItem] | None"]
"""Does what the timer is for; returns the mail it queued, or None when nothing was left to do (skipped)."""


@dataclass
class SweepResult:
    fired: int = 0
    skipped: int = 0
    failed: int = 0
    outbox_ids: list[int] = field(default_factory=list)


class TimerSweeper:
    """Sweeps due timers every `interval` seconds in a background thread; `sweep()` runs one sweep now."""

    BATCH = 1000

    def __init__(self, runtime: Runtime, handlers: Mapping[str, Handler], *, interval: float,
                 enqueue_outbox: Callable[[int], None] | None = None,
                 on_start: Callable[[Session, datetime], object] | None = None) -> None:
        self.runtime = runtime
        self.handlers = handlers
        self.interval = interval
        self.enqueue_outbox = enqueue_outbox
        self.on_start = on_start
        self._loop = BackgroundLoop("relaydesk-timers", self.sweep, interval=interval, failed=self._failed,
                                    at_once=True)

    def start(self) -> None:
        """Run `on_start` (re-time deadlines whose terms changed), catch up on what fell due, then keep sweeping."""
        if self.on_start is not None:
            with self.runtime.db.transaction() as session:
                self.on_start(session, clock.now())
        self._loop.start()

    def stop(self) -> None:
        self._loop.stop()

    def _failed(self, exc: Exception) -> None:
        if not is_unavailable(exc):  # an outage is logged once, by the database
            log.exception("timer sweep failed; trying again in %s s", self.interval)

    def sweep(self) -> SweepResult:
        """Fire every timer due now, in batches; delivery of the mail they queued is enqueued after commit."""
        result = SweepResult()
        while True:
            taken = self._fire_batch(result)
            if taken < self.BATCH:
                break
        if self.enqueue_outbox is not None:
            for outbox_id in result.outbox_ids:
                self.enqueue_outbox(outbox_id)
        if result.fired or result.failed:
            log.info("timers: %d fired, %d skipped, %d failed", result.fired, result.skipped, result.failed)
        return result

    def _fire_batch(self, result: SweepResult) -> int:
        """One transaction over up to BATCH due timers; on a handler error, one transaction per timer."""
        batch = SweepResult()
        try:
            with self.runtime.db.transaction() as session:
                now = clock.now()
                timers = _claim_due(session, now, self.BATCH)
                for timer in timers:
                    self._fire(session, timer, now, batch)
                taken = len(timers)
        except _HandlerFailed:
            return self._fire_one_by_one(result)
        _add(result, batch)
        return taken

    def _fire_one_by_one(self, result: SweepResult) -> int:
        taken = 0
        while taken < self.BATCH:
            single = SweepResult()
            try:
                with self.runtime.db.transaction() as session:
                    now = clock.now()
                    timers = _claim_due(session, now, 1)
                    if not timers:
                        return taken
                    timer_id = timers[0].id
                    self._fire(session, timers[0], now, single)
            except _HandlerFailed as failure:
                self._record_failure(timer_id, failure)
                result.failed += 1
            else:
                _add(result, single)
            taken += 1
        return taken

    def _fire(self, session: Session, timer: Row, now: datetime, result: SweepResult) -> None:
        """Run the timer's handler and count what it did: fired (mail queued, maybe none) or skipped."""
        handler = self.handlers.get(timer.kind)
        try:
            queued = handler(session, self.runtime, timer, now) if handler else None
        except Exception as exc:
            if is_unavailable(exc):
                raise
            raise _HandlerFailed(exc) from exc
        result.outbox_ids += take_queued(session)  # webhook deliveries of the events it wrote (deadline.breached)
        if queued is None:
            result.skipped += 1
            return
        result.fired += 1
        result.outbox_ids += [item.id for item in queued]

    def _record_failure(self, timer_id: int, failure: _HandlerFailed) -> None:
        log.error("timer %s failed: %s", timer_id, failure.cause, exc_info=failure.cause)
        with self.runtime.db.transaction() as session:
            timer = session.get(Timer, timer_id)
            if timer is None or timer.status != PENDING:
                return
            timer.attempts += 1
            timer.error = f"{type(failure.cause).__name__}: {failure.cause}"[:2000]
            if timer.attempts >= MAX_ATTEMPTS:
                timer.status = FAILED
            else:
                timer.due_at = clock.now() + timedelta(seconds=RETRY_SECONDS * timer.attempts)


class _HandlerFailed(Exception):
    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.cause = cause


def _claim_due(session: Session, now: datetime, limit: int) -> list[Row]:
    """Take the oldest due timers off the table and return them, in one statement.

    The rows are locked `FOR UPDATE SKIP LOCKED` (rows another worker holds
    are passed over) and deleted; if this transaction does not commit, they
    are back, pending.  A fired timer leaves its trace in the events its
    handler writes; deleting it costs a fraction of marking it (no index
    entries to add), which is what keeps a sweep of a thousand cheap.
    """
    timers = Timer.__table__.c  # Core columns: a thousand plain rows cost less than ORM-enabled DML
    due = (select(timers.id).where(timers.status == PENDING, timers.due_at <= now)
           .order_by(timers.due_at, timers.id).limit(limit).with_for_update(skip_locked=True))
    claimed = session.execute(
        delete(Timer.__table__).where(timers.id.in_(due.scalar_subquery()))
        .returning(timers.id, timers.kind, timers.deadline_id, timers.fraction, timers.agent_id, timers.due_at)
    ).all()
    return sorted(claimed, key=lambda row: (row.due_at, row.id))


def _add(total: SweepResult, part: SweepResult) -> None:
    total.fired += part.fired
    total.skipped += part.skipped
    total.failed += part.failed
    total.outbox_ids += part.outbox_ids

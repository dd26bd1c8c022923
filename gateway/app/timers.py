"""The timer sweeper of a worker process, with the handlers of every kind of timer.

Kept apart from the sweeping machinery (timer_sweeper.py) because this is
the one place that knows all the flows timers serve, and the one place that
may reach into the pipeline to read a stored mail again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from gateway.app.tasks import TaskQueue
from gateway.app.timer_sweeper import Handler, TimerSweeper
from gateway.core.runtime import Runtime
from gateway.desk import deadlines
from gateway.flows import deadline_alerts, digests
from gateway.pipeline.runner import parse_options
from parsers import ParsedMessage, parse_message
from storage.raw_units import read_raw


def timer_handlers(runtime: Runtime) -> dict[str, Handler]:
    """What each kind of timer does, bound to this process's runtime."""

    def reparse(session: Session, raw_sha256: str) -> ParsedMessage:
        return parse_message(read_raw(session, runtime.blobs, raw_sha256), parse_options(runtime))

    return {
        deadlines.REMIND: deadline_alerts.remind,
        deadlines.BREACH: deadline_alerts.breach_handler(reparse),
        digests.DIGEST: digests.send_digest,
    }


def on_start(runtime: Runtime, session: Session, now: datetime) -> None:
    """Before the first sweep: deadlines and digests follow a config that changed while the process was down."""
    deadlines.apply_current_terms(session, runtime.config, now)
    digests.schedule_all(session, runtime.config, now)


def timer_sweeper(queue: TaskQueue) -> TimerSweeper:
    runtime = queue.runtime
    return TimerSweeper(runtime, timer_handlers(runtime), interval=runtime.config.queue.timer_interval_seconds,
                        enqueue_outbox=queue.enqueue_outbox,
                        on_start=lambda session, now: on_start(runtime, session, now))

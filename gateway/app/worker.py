"""A worker: the task queue's actors, the sweeper and the timers, in this process.

`relaydesk worker` runs only this (shared brokers); `serve` runs it beside
SMTP, and with the embedded broker in the child process it supervises.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack

from sqlalchemy.exc import SQLAlchemyError

from gateway.app import tasks
from gateway.app.broker import is_embedded, make_broker, make_worker
from gateway.app.process import (
    ServeError,
    broker_name,
    first_line,
    require_secrets,
    wait_for_stop_signal,
)
from gateway.app.timers import timer_sweeper
from gateway.core.config import Config
from gateway.core.runtime import Runtime

log = logging.getLogger("relaydesk")

WORKER_STOP_TIMEOUT_MS = 15_000


def run_worker(config: Config, *, threads: int | None = None) -> None:
    """Actors and the sweeper only, until SIGTERM/SIGINT."""
    if is_embedded(config.queue):
        raise ServeError(
            "queue.broker is \"embedded\": its worker runs inside `relaydesk serve`. "
            "Separate `relaydesk worker` processes need a shared broker (redis://… or amqp://…)."
        )
    require_secrets(config, pollers=False)
    with ExitStack() as stack:
        queue = open_queue(stack, config)
        note = start_worker(stack, queue, threads or config.queue.worker_threads)
        log.info("relaydesk worker: broker %s, %s", broker_name(config), note)
        wait_for_stop_signal()
        log.info("relaydesk worker: stopping")


def open_runtime(config: Config, migrate: bool = True) -> Runtime:
    try:
        return Runtime.open(config, migrate=migrate)
    except SQLAlchemyError as exc:
        raise ServeError(f"storage.url: cannot open the database: {first_line(str(exc))}") from None


def open_queue(stack: ExitStack, config: Config, migrate: bool = True) -> tasks.TaskQueue:
    """Runtime, broker and actors for this process; undone in reverse by `stack`."""
    runtime = open_runtime(config, migrate)
    stack.callback(runtime.close)
    broker = make_broker(config.queue)
    stack.callback(broker.close)
    queue = tasks.bind(runtime, broker)
    stack.callback(tasks.unbind)
    return queue


def start_worker(stack: ExitStack, queue: tasks.TaskQueue, threads: int) -> str:
    config = queue.runtime.config.queue
    worker = make_worker(queue.broker, threads)
    worker.start()
    stack.callback(worker.stop, timeout=WORKER_STOP_TIMEOUT_MS)
    sweeper = tasks.Sweeper(queue, interval=config.sweep_interval_seconds, stale_after=config.stale_after_seconds)
    # With the embedded broker, whatever was queued before this start died with the last process.
    sweeper.start(everything_pending=is_embedded(config))
    stack.callback(sweeper.stop)
    timers = timer_sweeper(queue)
    timers.start()
    stack.callback(timers.stop)
    return (f"worker {threads} threads, sweep every {config.sweep_interval_seconds:g}s, "
            f"timers every {config.timer_interval_seconds:g}s")

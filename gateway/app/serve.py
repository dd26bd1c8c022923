"""The long-running processes: `relaydesk serve` and `relaydesk worker`.

`serve` is the SMTP listener plus, unless `--no-worker`, a dramatiq worker
and the sweeper — with the embedded broker that is the whole installation in
one command, the worker in a child process `serve` supervises
(`gateway.app.pipeline_process`), with a shared broker in the same process.
`worker` runs only actors and the
sweeper, for shared brokers (Redis, RabbitMQ) where ingress and workers are
separate processes.  Both stop cleanly on SIGTERM/SIGINT: the listener stops
accepting first, then in-flight actor work is given time to finish.  A stop
that takes longer than SHUTDOWN_GRACE_SECONDS, or a second signal, ends the
process at once with every thread's stack on stderr: nothing is lost (all
work is in the database) and the stacks say what held it up.
"""

from __future__ import annotations

import faulthandler
import logging
import os
import signal
import threading
from collections.abc import Callable, Sequence
from contextlib import ExitStack

from sqlalchemy.exc import SQLAlchemyError

from bots.channel import TelegramChannel
from gateway.app import tasks
from gateway.app.broker import is_embedded, make_broker, make_worker
from gateway.app.timers import timer_sweeper
from gateway.channels.imap.poller import ImapChannel
from gateway.channels.smtp import SmtpServer
from gateway.core.config import Config
from gateway.core.runtime import Runtime
from gateway.app.pipeline_process import PipelineProcess
from gateway.core.secret_check import missing_secrets

log = logging.getLogger("relaydesk")

WORKER_STOP_TIMEOUT_MS = 15_000
SHUTDOWN_GRACE_SECONDS = 45.0


# Something else this process runs beside SMTP (the web desk): started with the stack that stops it,
# it returns the phrase for the start-up line.
Component = Callable[[ExitStack, Runtime], str]


class ServeError(Exception):
    """The process cannot run with this configuration; the message names the key."""


def run_serve(config: Config, *, with_worker: bool = True, with_pollers: bool = True,
              also: Sequence[Component] = ()) -> None:
    """SMTP ingress, the IMAP and Telegram pollers unless `with_pollers` is off (+ worker and sweeper),
    and the components in `also` (the web desk, which the command line hands in), until SIGTERM/SIGINT.
    Of several processes, one at a time polls each mailbox and the bot (gateway/poller_lease.py)."""
    if not with_worker and is_embedded(config.queue):
        raise ServeError(
            "--no-worker needs a shared broker: with queue.broker = \"embedded\" the queue lives inside "
            "`relaydesk serve`, so nothing else could process the mail (set queue.broker to redis://… or amqp://…)"
        )
    _require_secrets(config, pollers=with_pollers)
    with ExitStack() as stack:
        if is_embedded(config.queue) and with_worker:
            runtime, enqueue, worker_note = _start_pipeline_process(stack, config)
        else:
            queue = open_queue(stack, config)
            runtime, enqueue = queue.runtime, tasks.enqueue_inbox
            worker_note = start_worker(stack, queue, config.queue.worker_threads) if with_worker else "no worker"
        smtp = SmtpServer(runtime, enqueue)
        try:
            smtp.start()
        except OSError as exc:
            raise ServeError(f"smtp.listen: cannot listen on {config.smtp.listen}: {exc.strerror or exc}") from None
        stack.callback(smtp.stop)
        channels_note = (_start_imap(stack, runtime, enqueue) + _start_telegram(stack, runtime, enqueue)
                         if with_pollers else "")
        channels_note += "".join(f", {start(stack, runtime)}" for start in also)
        host, port = smtp.address
        log.info("relaydesk serve: SMTP on %s:%d%s, broker %s, %s", host, port, channels_note, _broker_name(config),
                 worker_note)
        wait_for_stop_signal()
        log.info("relaydesk serve: stopping")


def _start_pipeline_process(stack: ExitStack, config: Config) -> tuple[Runtime, Callable[[int], None], str]:
    """Embedded broker: this process receives; a child it supervises processes and delivers."""
    runtime = _open_runtime(config)
    stack.callback(runtime.close)
    child = PipelineProcess(config, config.queue.worker_threads, runtime.db.availability)
    child.start()
    stack.callback(child.stop)
    tasks.bind_enqueuer(child)  # what the web desk queues here is handed to the child too
    stack.callback(tasks.unbind)
    return runtime, child.enqueue_inbox, f"pipeline process with {config.queue.worker_threads} worker threads"


def _require_secrets(config: Config, *, pollers: bool) -> None:
    """A channel secret that cannot be read stops the process at start, by its key, not at first use."""
    missing = missing_secrets(config, pollers=pollers)
    if missing:
        raise ServeError("; ".join(missing))


def run_worker(config: Config, *, threads: int | None = None) -> None:
    """Actors and the sweeper only, until SIGTERM/SIGINT."""
    if is_embedded(config.queue):
        raise ServeError(
            "queue.broker is \"embedded\": its worker runs inside `relaydesk serve`. "
            "Separate `relaydesk worker` processes need a shared broker (redis://… or amqp://…)."
        )
    _require_secrets(config, pollers=False)
    with ExitStack() as stack:
        queue = open_queue(stack, config)
        note = start_worker(stack, queue, threads or config.queue.worker_threads)
        log.info("relaydesk worker: broker %s, %s", _broker_name(config), note)
        wait_for_stop_signal()
        log.info("relaydesk worker: stopping")


def _open_runtime(config: Config, migrate: bool = True) -> Runtime:
    try:
        return Runtime.open(config, migrate=migrate)
    except SQLAlchemyError as exc:
        raise ServeError(f"storage.url: cannot open the database: {_first_line(str(exc))}") from None


def open_queue(stack: ExitStack, config: Config, migrate: bool = True) -> tasks.TaskQueue:
    """Runtime, broker and actors for this process; undone in reverse by `stack`."""
    runtime = _open_runtime(config, migrate)
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


def _start_imap(stack: ExitStack, runtime: Runtime, enqueue: Callable[[int], None]) -> str:
    """Poll the configured IMAP mailboxes in this process (ingress, like the SMTP listener)."""
    if not runtime.config.imap:
        return ""
    channel = ImapChannel(runtime, enqueue)
    channel.start()
    stack.callback(channel.stop)
    return f", IMAP {len(runtime.config.imap)} mailbox(es)"


def _start_telegram(stack: ExitStack, runtime: Runtime, enqueue: Callable[[int], None]) -> str:
    """Run the Telegram bot's update loop in this process (ingress, like the SMTP listener)."""
    if runtime.config.telegram is None:
        return ""
    channel = TelegramChannel(runtime, enqueue)
    channel.start()
    stack.callback(channel.stop)
    return ", Telegram bot"


def _broker_name(config: Config) -> str:
    """The broker URL without credentials, for the start-up line."""
    url = config.queue.broker
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rpartition('@')[2]}" if sep else url


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "(no detail)"


def wait_for_stop_signal() -> None:
    """Block until SIGTERM/SIGINT; from then on the shutdown is bounded (`bound_shutdown`)."""
    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        if stop.is_set():
            log.warning("received %s again: stopping now", name)
            faulthandler.dump_traceback(all_threads=True)
            os._exit(1)
        log.info("received %s", name)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, request_stop)
    stop.wait()
    bound_shutdown(SHUTDOWN_GRACE_SECONDS)


def bound_shutdown(seconds: float) -> None:
    """Unless the process has ended within `seconds`, print every thread's stack and exit with status 1."""
    faulthandler.dump_traceback_later(seconds, exit=True)

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

import logging
from collections.abc import Callable, Sequence
from contextlib import ExitStack

from bots.channel import TelegramChannel
from gateway.app import tasks
from gateway.app.broker import is_embedded
from gateway.app.pipeline_process import PipelineProcess
from gateway.app.process import (
    ServeError,
    broker_name,
    require_secrets,
    wait_for_stop_signal,
)
from gateway.app.worker import open_queue, open_runtime, start_worker
from gateway.channels.imap.poller import ImapChannel
from gateway.channels.smtp import SmtpServer
from gateway.core.config import Config
from gateway.core.runtime import Runtime

log = logging.getLogger("relaydesk")



# Something else this process runs beside SMTP (the web desk): started with the stack that stops it,
# it returns the phrase for the start-up line.
Component = Callable[[ExitStack, Runtime], str]


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
    require_secrets(config, pollers=with_pollers)
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
        log.info("relaydesk serve: SMTP on %s:%d%s, broker %s, %s", host, port, channels_note, broker_name(config),
                 worker_note)
        wait_for_stop_signal()
        log.info("relaydesk serve: stopping")


def _start_pipeline_process(stack: ExitStack, config: Config) -> tuple[Runtime, Callable[[int], None], str]:
    """Embedded broker: this process receives; a child it supervises processes and delivers."""
    runtime = open_runtime(config)
    stack.callback(runtime.close)
    child = PipelineProcess(config, config.queue.worker_threads, runtime.db.availability)
    child.start()
    stack.callback(child.stop)
    tasks.bind_enqueuer(child)  # what the web desk queues here is handed to the child too
    stack.callback(tasks.unbind)
    return runtime, child.enqueue_inbox, f"pipeline process with {config.queue.worker_threads} worker threads"


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



"""The embedded installation's pipeline and delivery, in a process that `serve` starts and supervises.

With the embedded broker everything used to run inside `relaydesk serve`:
SMTP intake, the pipeline and delivery took turns on one interpreter lock,
so a burst of mail was received at the pace it was processed and used one
core of the machine.  Now `serve` keeps the listeners (ingress) and hands
each committed inbox id to a child process over a pipe; the child runs the
embedded broker's worker, its sweeper and delivery.  Still one command, no
other service.

The pipe is never the only copy of any work (the database is, as with any
broker): the child's first sweep takes every pending row, so ids lost with
a child that died are picked up by the next one, which `serve` starts at
once.  A child whose parent is gone (killed) exits at once too, so a
restarted `serve` never runs beside an orphan that still sends.  The child
tells `serve` when it finds the database gone or back, so the log says so
once for the installation, not once per process.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from contextlib import ExitStack
from multiprocessing.connection import Connection

from gateway.core.config import Config
from storage.availability import Availability, Unavailable

log = logging.getLogger("relaydesk")

RESTART_DELAY_SECONDS = 1.0
STOP_TIMEOUT_SECONDS = 30.0
_STOP = None  # the message that asks the child to finish and exit


class PipelineProcess:
    """The supervised child: `enqueue_inbox` from any thread of `serve`, `stop` at shutdown."""

    def __init__(self, config: Config, threads: int, availability: Availability) -> None:
        self.config = config
        self.threads = threads
        self.availability = availability  # this process's: the child's outages are told here
        self._context = multiprocessing.get_context("spawn")  # a fresh interpreter: no fork of running threads
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._process: multiprocessing.process.BaseProcess | None = None
        self._pipe: Connection | None = None
        self._watcher: threading.Thread | None = None

    def start(self) -> None:
        self._spawn()
        self._watcher = threading.Thread(target=self._supervise, name="relaydesk-pipeline-supervisor", daemon=True)
        self._watcher.start()

    def enqueue_inbox(self, *inbox_ids: int) -> None:
        """Hand committed inbox ids to the child; never raises (the child's sweeper finds what it missed)."""
        self._send(("inbox", inbox_ids, None))

    def enqueue_outbox(self, outbox_id: int, delay_seconds: float | None = None) -> None:
        """Hand a committed outbox id (mail the web desk queued) to the child; never raises, as above."""
        self._send(("outbox", outbox_id, delay_seconds))

    def _send(self, work: tuple[str, int | tuple[int, ...], float | None]) -> None:
        try:
            with self._lock:
                if self._pipe is not None:
                    self._pipe.send(work)
        except (OSError, ValueError) as exc:
            log.warning("%s item(s) %s stored; the pipeline process is restarting (%s), its sweep will take them",
                        work[0], work[1], exc)

    def stop(self) -> None:
        """Ask the child to finish its work in hand and exit; kill it if it does not within the timeout."""
        self._stopping.set()
        with self._lock:
            process, pipe = self._process, self._pipe
            try:
                if pipe is not None:
                    pipe.send(_STOP)
            except (OSError, ValueError):
                pass
        if process is not None:
            process.join(STOP_TIMEOUT_SECONDS)
            if process.is_alive():
                log.warning("the pipeline process did not stop within %.0f s; killed", STOP_TIMEOUT_SECONDS)
                process.kill()
                process.join()
        if pipe is not None:
            pipe.close()
        if self._watcher is not None:
            self._watcher.join()

    def _spawn(self) -> None:
        work_in, work_out = self._context.Pipe(duplex=False)  # (receive end, send end): inbox ids to the child
        news_in, news_out = self._context.Pipe(duplex=False)  # the child's news of the database, to us
        process = self._context.Process(target=run_child, args=(self.config, self.threads, work_in, news_out),
                                        name="relaydesk-pipeline")
        process.start()
        work_in.close()
        news_out.close()
        with self._lock:
            self._process, self._pipe = process, work_out
        threading.Thread(target=self._listen, args=(news_in,), name="relaydesk-pipeline-news", daemon=True).start()

    def _listen(self, news: Connection) -> None:
        """The child's database news into this process's `Availability`, until the child ends."""
        with news:
            while True:
                try:
                    reason = news.recv()
                except (EOFError, OSError):
                    return
                if reason is None:
                    self.availability.succeeded()
                else:
                    self.availability.failed(Unavailable(reason))

    def _supervise(self) -> None:
        while not self._stopping.is_set():
            process = self._process
            if process is None:
                return
            process.join()  # returns when the child exits
            if self._stopping.is_set():
                return
            log.error("the pipeline process exited with status %s; starting another in %.0f s",
                      process.exitcode, RESTART_DELAY_SECONDS)
            with self._lock:
                if self._pipe is not None:
                    self._pipe.close()
                self._pipe = None
            if self._stopping.wait(RESTART_DELAY_SECONDS):
                return
            self._spawn()


def run_child(config: Config, threads: int, pipe: Connection, news: Connection) -> None:
    """The child's body: worker, sweeper and delivery of the embedded broker, fed from `pipe`."""
    from gateway.app.worker import (  # the child builds its own worker
        open_queue,
        start_worker,
    )
    from gateway.outbound.delivery import release_leases

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C reaches the parent, which stops us in order
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # likewise a service manager's SIGTERM to the whole group
    with ExitStack() as stack:
        queue = open_queue(stack, config, migrate=False)
        news_lock = threading.Lock()

        def tell(reason: str | None) -> None:
            with news_lock:
                news.send(reason)

        queue.runtime.db.availability = Availability(tell=tell)
        released = release_leases(queue.runtime)  # this process is the only sender
        if released:
            log.info("pipeline process: %d interrupted send(s) are due again", released)
        note = start_worker(stack, queue, threads)
        log.info("pipeline process %d: %s", os.getpid(), note)
        while True:
            try:
                message = pipe.recv()
            except (EOFError, OSError):
                log.error("pipeline process: relaydesk serve is gone; exiting at once")
                os._exit(1)
            if message is _STOP:
                break
            kind, ids, delay = message
            if kind == "inbox":
                queue.enqueue_inbox(*ids)
            else:
                queue.enqueue_outbox(ids, delay)
        log.info("pipeline process: stopping")

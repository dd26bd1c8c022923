"""What every long-running relaydesk process shares: its start-up refusal, its stop, its log lines.

Used by `serve`, `worker`, the supervised pipeline process and `relaydesk web`.
"""

from __future__ import annotations

import faulthandler
import logging
import os
import signal
import threading

from gateway.core.config import Config
from gateway.core.secret_check import missing_secrets

log = logging.getLogger("relaydesk")

SHUTDOWN_GRACE_SECONDS = 45.0


class ServeError(Exception):
    """The process cannot run with this configuration; the message names the key."""


def require_secrets(config: Config, *, pollers: bool) -> None:
    """A channel secret that cannot be read stops the process at start, by its key, not at first use."""
    missing = missing_secrets(config, pollers=pollers)
    if missing:
        raise ServeError("; ".join(missing))


def broker_name(config: Config) -> str:
    """The broker URL without credentials, for the start-up line."""
    url = config.queue.broker
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rpartition('@')[2]}" if sep else url


def first_line(text: str) -> str:
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

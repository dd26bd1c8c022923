"""Serving the web app: inside `relaydesk serve` (a thread beside SMTP), or alone as `relaydesk web`.

uvicorn runs on an event loop in a thread of its own, on a socket bound
before the thread starts, so a port that is taken fails the start with the
key to change (`web.listen`) instead of a log line nobody reads, and port
0 gets a free port that the start-up line reports.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from contextlib import ExitStack

import uvicorn

from gateway.app import tasks
from gateway.app.broker import is_embedded, make_broker
from gateway.app.process import ServeError, wait_for_stop_signal
from gateway.core.config import Config
from gateway.core.runtime import Runtime
from gateway.web.app import create_app

log = logging.getLogger("relaydesk")
START_TIMEOUT_SECONDS = 10.0
STOP_TIMEOUT_SECONDS = 10.0


class WebServer:
    """The desk on `[web] listen`, in a background thread."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        assert self._socket is not None
        host, port = self._socket.getsockname()[:2]
        return host, port

    def start(self) -> None:
        """Bind (OSError if the port is taken), then serve until `stop`."""
        host, port = self.runtime.config.web.address
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            sock.close()
            raise
        sock.listen(128)
        self._socket = sock
        config = uvicorn.Config(create_app(self.runtime), log_level="warning", access_log=False, lifespan="off",
                                proxy_headers=False, server_header=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=lambda: asyncio.run(self._server.serve(sockets=[sock])),
                                        name="relaydesk-web", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise ServeError(f"web.listen: the web desk did not start on {host}:{port}")
            time.sleep(0.02)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT_SECONDS)
        if self._socket is not None:
            self._socket.close()


def start_web_desk(stack: ExitStack, runtime: Runtime) -> str:
    """Start the desk in this process (stopped by `stack`); the phrase for the start-up line."""
    server = WebServer(runtime)
    try:
        server.start()
    except OSError as exc:
        raise ServeError(f"web.listen: cannot listen on {runtime.config.web.listen}: {exc.strerror or exc}") from None
    stack.callback(server.stop)
    host, port = server.address
    return f"web desk on http://{host}:{port}"


def run_web(config: Config) -> None:
    """`relaydesk web`: the desk alone, until SIGTERM/SIGINT; mail it queues goes to the shared broker."""
    with ExitStack() as stack:
        runtime = Runtime.open(config)
        stack.callback(runtime.close)
        if is_embedded(config.queue):
            delivery = "mail it queues is delivered by `relaydesk serve` (its sweeper)"
        else:
            broker = make_broker(config.queue)
            stack.callback(broker.close)
            tasks.bind(runtime, broker)
            stack.callback(tasks.unbind)
            delivery = "mail it queues goes to the broker's workers"
        log.info("relaydesk web: %s; %s", start_web_desk(stack, runtime), delivery)
        wait_for_stop_signal()
        log.info("relaydesk web: stopping")

"""An inbound channel's asyncio work on an event loop in a thread of its own.

`relaydesk serve` is threaded (the SMTP controller, the dramatiq worker);
the IMAP pollers and the Telegram bot are asyncio clients.  Each runs its
`serve(stop)` coroutine here until `stop()` sets the event, which the
coroutine watches to finish the unit in hand and log out.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

STOP_TIMEOUT_SECONDS = 15.0
_T = TypeVar("_T")


class ChannelThread:
    """Subclasses implement `serve`; `start` returns once the loop runs, `stop` waits for it (bounded)."""

    thread_name = "channel"

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()

    async def serve(self, stop: asyncio.Event) -> None:
        raise NotImplementedError

    def start(self) -> None:
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(),), name=self.thread_name, daemon=True)
        self._thread.start()
        self._started.wait()

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT_SECONDS)

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        self._started.set()
        await self.serve(self._stop)


async def sleep_unless_stopped(stop: asyncio.Event, seconds: float) -> None:
    """Wait `seconds`, or less when the channel is stopped meanwhile."""
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except asyncio.TimeoutError:
        pass


async def in_thread(call: Callable[..., _T], *args: Any) -> _T:
    """Blocking work (storage, the broker) off the event loop, so other pollers and IDLE go on."""
    return await asyncio.get_running_loop().run_in_executor(None, partial(call, *args))

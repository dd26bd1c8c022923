"""A daemon thread that repeats one piece of work until the process stops it (the sweepers of a worker)."""

from __future__ import annotations

import threading
from collections.abc import Callable


class BackgroundLoop:
    """Calls `step` every `interval` seconds in a thread of its own until `stop()`.

    A step that raises is handed to `failed` and the loop goes on: one failed
    sweep (a database restarting) must not end the sweeping for the life of
    the process.  `at_once` runs the first step as soon as the thread starts
    instead of one interval later.
    """

    def __init__(self, name: str, step: Callable[[], object], *, interval: float,
                 failed: Callable[[Exception], None], at_once: bool = False) -> None:
        self.name = name
        self.step = step
        self.interval = interval
        self.failed = failed
        self.at_once = at_once
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Wake the thread from its wait and wait for the step it may be in to end."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        if self.at_once:
            self._step()
        while not self._stop.wait(self.interval):
            self._step()

    def _step(self) -> None:
        try:
            self.step()
        except Exception as exc:
            self.failed(exc)

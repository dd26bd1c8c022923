"""Per-key rate limits held in one process's memory, in bounded space.

Used where a limit only blunts one runaway key (an envelope sender at the
SMTP door, a client hammering sign-in or the status page); limits that must
hold across processes are counted in the database instead.

A limiter that kept a timestamp per event and a queue per key grew with
every key it ever saw: a server taking mail from many senders held one
entry per sender for good.  This one keeps two integers per key — the
counts of the current fixed window and the one before — and estimates the
sliding count as the current count plus the previous one weighted by how
much of it still lies inside the window (the "sliding window counter").
Keys live in the two windows' tables only, so a key silent for two windows
is gone, and a table never holds more than `max_keys` keys: the least
recently used one makes room (a key under attack keeps asking, so it stays).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

MAX_KEYS = 10_000


class SlidingWindow:
    """At most about `limit` events per key within `seconds`."""

    def __init__(self, limit: int, seconds: float, max_keys: int = MAX_KEYS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.seconds = seconds
        self.max_keys = max_keys
        self._clock = clock
        self._lock = threading.Lock()
        self._started = math.floor(clock() / seconds) * seconds  # the current window's start
        self._current: dict[str, int] = {}
        self._previous: dict[str, int] = {}

    def allows(self, key: str) -> bool:
        """Whether one more event for `key` stays within the limit (nothing is counted)."""
        with self._lock:
            return self._estimate(key) < self.limit

    def record(self, key: str) -> None:
        """Count one event for `key`."""
        with self._lock:
            self._count(key)

    def allow(self, key: str) -> bool:
        """Count one event for `key`; False (and not counted) when the limit is reached."""
        with self._lock:
            if self._estimate(key) >= self.limit:
                return False
            self._count(key)
            return True

    def _count(self, key: str) -> None:
        self._roll()
        count = self._current.pop(key, 0) + 1  # re-inserted last: the table is ordered by last use
        self._current[key] = count
        if len(self._current) > self.max_keys:
            del self._current[next(iter(self._current))]

    def _estimate(self, key: str) -> float:
        self._roll()
        if key in self._current:  # asked about: recently used, so last to make room
            self._current[key] = self._current.pop(key)
        inside = 1.0 - (self._clock() - self._started) / self.seconds  # share of the previous window still inside
        return self._current.get(key, 0) + self._previous.get(key, 0) * inside

    def _roll(self) -> None:
        """Start a new window when the current one is over; a gap of two or more forgets everything."""
        elapsed = self._clock() - self._started
        if elapsed < self.seconds:
            return
        windows = int(elapsed // self.seconds)
        self._previous = self._current if windows == 1 else {}
        self._current = {}
        self._started += windows * self.seconds

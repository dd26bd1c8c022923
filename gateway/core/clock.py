"""The one source of "now" for deadlines, timers and digests.

Deadlines run for hours or days; tests cannot wait for them.  Code that
decides by time asks `now()`, which reads the system clock unless a test
has put a `ManualClock` in its place with `use()`.  Nothing else changes
between production and tests, so the tests exercise the real decisions.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """The real time, UTC."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


@dataclass
class ManualClock:
    """A clock that moves only when told to (`advance`, `set`)."""

    current: datetime

    def __post_init__(self) -> None:
        if self.current.tzinfo is None:
            raise ValueError("a ManualClock needs a timezone-aware start")

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float = 0, **delta: float) -> datetime:
        self.current += timedelta(seconds=seconds, **delta)
        return self.current

    def set(self, instant: datetime) -> datetime:
        self.current = instant
        return self.current


_current: Clock = SystemClock()


def now() -> datetime:
    """The current instant, UTC, from the clock in use."""
    return _current.now()


@contextmanager
def use(clock: Clock) -> Iterator[Clock]:
    """Run the block with `clock` as the source of `now()` (tests)."""
    global _current
    previous, _current = _current, clock
    try:
        yield clock
    finally:
        _current = previous

"""The controllable clock: tests move time instead of sleeping."""

from datetime import datetime, timezone

import pytest

from gateway.core import clock


def test_manual_clock_replaces_the_system_clock_only_inside_the_block() -> None:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    with clock.use(clock.ManualClock(start)) as manual:
        assert clock.now() == start
        manual.advance(90)
        assert clock.now() == datetime(2026, 3, 2, 9, 1, 30, tzinfo=timezone.utc)
    assert abs((clock.now() - datetime.now(timezone.utc)).total_seconds()) < 5


def test_manual_clock_refuses_naive_times() -> None:
    with pytest.raises(ValueError):
        clock.ManualClock(datetime(2026, 3, 2, 9, 0))

"""Fixtures of the flow tests: a controlled clock (deadlines and digests are decided by time)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

import pytest

from gateway.core import clock


@pytest.fixture
def manual() -> Iterator[clock.ManualClock]:
    """`clock.now()` reads this clock for the test; it moves only by `advance`/`set`."""
    with clock.use(clock.ManualClock(datetime.now(timezone.utc))) as manual:
        yield manual

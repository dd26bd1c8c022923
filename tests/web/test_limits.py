"""The per-client windows of sign-in requests and status page views."""

from __future__ import annotations

import time

from gateway.web.limits import SlidingWindow


def test_a_window_refuses_beyond_its_limit_and_counts_each_key_apart() -> None:
    window = SlidingWindow(limit=3, seconds=60)
    assert [window.allow("10.0.0.1") for _ in range(4)] == [True, True, True, False]
    assert window.allow("10.0.0.2"), "another client has its own window"


def test_a_window_frees_up_as_time_passes() -> None:
    window = SlidingWindow(limit=1, seconds=0.05)
    assert window.allow("a") and not window.allow("a")
    time.sleep(0.06)
    assert window.allow("a")

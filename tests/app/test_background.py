"""The loop under both sweepers: it outlives a failing step, and `at_once` does not wait an interval first."""

from __future__ import annotations

import threading

from gateway.app.background import BackgroundLoop


def test_a_failing_step_is_reported_and_the_loop_goes_on() -> None:
    calls, failures, third = [], [], threading.Event()

    def step() -> None:
        calls.append(len(calls))
        if len(calls) >= 3:
            third.set()
        if len(calls) == 1:
            raise RuntimeError("database restarting")

    loop = BackgroundLoop("test-loop", step, interval=0.01, failed=failures.append)
    loop.start()
    try:
        assert third.wait(5)
    finally:
        loop.stop()
    assert [str(exc) for exc in failures] == ["database restarting"]
    assert loop._thread is not None and not loop._thread.is_alive()  # stop() waited for the thread


def test_at_once_runs_the_first_step_before_the_first_interval() -> None:
    ran = threading.Event()
    loop = BackgroundLoop("test-loop", ran.set, interval=3600, failed=lambda exc: None, at_once=True)
    loop.start()
    try:
        assert ran.wait(5)
    finally:
        loop.stop()  # wakes the hour-long wait at once


def test_without_at_once_nothing_runs_before_the_interval() -> None:
    ran = []
    loop = BackgroundLoop("test-loop", lambda: ran.append(1), interval=3600, failed=lambda exc: None)
    loop.start()
    loop.stop()
    assert ran == []

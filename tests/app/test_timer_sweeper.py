"""The timer sweeper on its own: due timers fire once, a failing handler holds up no other timer."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from gateway.app import timer_sweeper
from gateway.app.timer_sweeper import TimerSweeper
from gateway.core import clock
from gateway.core.runtime import Runtime
from storage.deadline_models import Timer


def add_timers(runtime: Runtime, *kinds: str, due: datetime) -> None:
    with runtime.db.transaction() as session:
        session.add_all(Timer(kind=kind, due_at=due) for kind in kinds)


def test_due_timers_fire_once_and_later_ones_wait(runtime: Runtime) -> None:
    fired: list[str] = []
    sweeper = TimerSweeper(runtime, {"ok": lambda s, rt, timer, now: fired.append(timer.kind) or []}, interval=1)
    now = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    with clock.use(clock.ManualClock(now)) as manual:
        add_timers(runtime, "ok", "ok", due=now)
        add_timers(runtime, "ok", due=now + timedelta(minutes=5))
        assert sweeper.sweep().fired == 2
        assert sweeper.sweep().fired == 0
        manual.advance(minutes=5)
        assert (sweeper.sweep().fired, fired) == (1, ["ok", "ok", "ok"])
    with runtime.db.transaction() as session:
        assert session.scalars(select(Timer)).all() == []


def test_a_failing_handler_is_retried_later_and_given_up_after_max_attempts(sqlite_runtime: Runtime) -> None:
    def boom(session, rt, timer, now):
        raise RuntimeError("template missing")

    sweeper = TimerSweeper(sqlite_runtime, {"ok": lambda s, rt, timer, now: [], "boom": boom}, interval=1)
    now = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    with clock.use(clock.ManualClock(now)) as manual:
        add_timers(sqlite_runtime, "boom", "ok", "ok", due=now)
        result = sweeper.sweep()
        assert (result.fired, result.failed) == (2, 1)  # the others fired in spite of it
        for _ in range(timer_sweeper.MAX_ATTEMPTS):
            manual.advance(timer_sweeper.RETRY_SECONDS * timer_sweeper.MAX_ATTEMPTS)
            sweeper.sweep()
    with sqlite_runtime.db.transaction() as session:
        [left] = session.scalars(select(Timer)).all()
        assert (left.kind, left.status, left.attempts) == ("boom", "failed", timer_sweeper.MAX_ATTEMPTS)
        assert left.error == "RuntimeError: template missing"

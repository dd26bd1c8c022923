"""Timer benchmark: 100,000 pending deadline timers; the cost of a sweep that fires 1,000 due ones, and of one with none due.

The sweep is the worker's own (`gateway.app.timer_sweeper.TimerSweeper.sweep`):
it takes the due timers `FOR UPDATE SKIP LOCKED` through the (status, due_at)
index, runs each timer's handler and marks it fired, all in one
transaction.  The handler here does nothing (returns no mail), so the
figures are the machinery's — finding, locking and marking — not the cost
of rendering a reminder.  Each round makes `--due` timers due (a bulk
UPDATE, not timed) and times one sweep; the other timers stay pending a day
ahead.  `--reminders N` then times one more sweep that fires N real
reminders (the worker's own handlers: each renders and queues one mail to
the partner) among the same 100,000.  Prints JSON with the median and worst
round in milliseconds.

    python bench/timers.py [--backend postgresql|sqlite] [--pending 100000] [--due 1000] [--rounds 5]
                           [--reminders 200]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import insert, select, update  # noqa: E402  (after the path tweak)

from gateway.app.timer_sweeper import TimerSweeper  # noqa: E402
from gateway.app.timers import timer_handlers  # noqa: E402
from gateway.core import clock  # noqa: E402
from gateway.core.runtime import Runtime  # noqa: E402
from gateway.desk import deadlines  # noqa: E402
from gateway.desk.participants import add_participant  # noqa: E402
from gateway.desk.partner_terms import from_snapshot  # noqa: E402
from parsers.message import Address  # noqa: E402
from storage.deadline_models import Timer  # noqa: E402
from tests.conftest import demo_config  # noqa: E402
from tests.desk.world import World  # noqa: E402
from tests.services import fresh_postgres_database  # noqa: E402

KIND = "bench"


def fill(runtime: Runtime, pending: int) -> None:
    later = clock.now() + timedelta(days=1)
    rows = [{"kind": KIND, "due_at": later + timedelta(seconds=n), "status": "pending", "attempts": 0,
             "created_at": clock.now()} for n in range(pending)]
    with runtime.db.transaction() as session:
        for start in range(0, pending, 10_000):
            session.execute(insert(Timer), rows[start:start + 10_000])


def make_due(runtime: Runtime, count: int) -> None:
    with runtime.db.transaction() as session:
        ids = list(session.scalars(select(Timer.id).where(Timer.status == "pending").order_by(Timer.id).limit(count)))
        session.execute(update(Timer).where(Timer.id.in_(ids)).values(due_at=clock.now() - timedelta(seconds=1)))


def real_reminders(runtime: Runtime, count: int) -> dict[str, float]:
    """`count` handoffs under 4 h terms, handed over 3 h ago: their half-time reminders are due now."""
    terms = from_snapshot({"accept_within": "4h", "remind_at": [0.5]})
    with runtime.db.transaction() as session:
        world = World(session)
        for _ in range(count):
            child = world.ticket("partner", clock.now())
            link = world.link(world.ticket("vendor", clock.now()), child, clock.now())
            add_participant(session, child, "agent", Address("Paul Partner", "paul@partner.example"))
            deadlines.start(session, link, terms, clock.now() - timedelta(hours=3))
    sweeper = TimerSweeper(runtime, timer_handlers(runtime), interval=1.0)
    elapsed, fired = timed_sweep(sweeper)
    assert fired == count, f"fired {fired} reminders, expected {count}"
    return {"reminders": count, "sweep_ms": round(elapsed, 1), "per_reminder_ms": round(elapsed / count, 2)}


def timed_sweep(sweeper: TimerSweeper) -> tuple[float, int]:
    started = time.perf_counter()
    result = sweeper.sweep()
    return (time.perf_counter() - started) * 1000, result.fired


def summary(values: list[float]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(values), 2), "max_ms": round(max(values), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--reminders", type=int, default=0)
    args = parser.parse_args()
    with ExitStack() as stack:
        data = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        url = stack.enter_context(fresh_postgres_database()) if args.backend == "postgresql" else None
        runtime = Runtime.open(demo_config(data, url))
        stack.callback(runtime.close)
        fill(runtime, args.pending)
        sweeper = TimerSweeper(runtime, {KIND: lambda session, rt, timer, now: []}, interval=1.0)
        sweeper.BATCH = max(sweeper.BATCH, args.due)
        idle = [timed_sweep(sweeper)[0] for _ in range(args.rounds)]
        busy = []
        for _ in range(args.rounds):
            make_due(runtime, args.due)
            elapsed, fired = timed_sweep(sweeper)
            assert fired == args.due, f"fired {fired}, expected {args.due}"
            busy.append(elapsed)
        reminders = real_reminders(runtime, args.reminders) if args.reminders else None
    print(json.dumps({
        "backend": args.backend,
        "pending_timers": args.pending,
        "due_per_sweep": args.due,
        "rounds": args.rounds,
        "sweep_with_due": summary(busy),
        "sweep_none_due": summary(idle),
        "target_ms_per_1000_due": 50,
        "real_reminders": reminders,
    }, indent=2))


if __name__ == "__main__":
    main()

"""End-to-end benchmark: customer mail over SMTP in, every outbound mail caught at a sink.

N customer mails (new tickets, replies 1 in 4, a dispatcher's forward to
the partner every 50) go from 8 concurrent SMTP clients into `relaydesk
serve` (a real subprocess); the smarthost is an aiosmtpd sink in this
process.  Per installation: mails/s from the first mail sent to the last
outbound mail at the sink (once the database says no inbox or outbox row
is pending), p50/p99 latency from sending a mail to the first outbound
mail that answers it, CPU seconds per mail and peak RSS of the installation's
processes.  Installations, interleaved in every round:

  embedded       `serve` alone: SQLite, embedded broker (the default)
  pg_redis_1w    `serve --no-worker` + 1 `relaydesk worker`, PostgreSQL and Redis
  pg_redis_2w    the same with 2 workers
  bare_relay     the ceiling: aiosmtpd accepting each mail and relaying it with aiosmtplib

and SMTP intake alone: `serve --no-worker` (SQLite, Redis broker) against an
aiosmtpd that only answers 250 (mails/s from first sent to last 250).
`--drain N` adds: N mails pre-filled into the inbox, then 1 or 2 workers
drain it.  Prints JSON: every round's figures and the medians.

    python bench/e2e.py [--mails 2000] [--rounds 3] [--only embedded,intake] [--drain 5000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.e2e_parts import (  # noqa: E402  (after the path tweak)
    TimingSink,
    cpu_seconds,
    free_port,
    mail_mix,
    peak_rss_mb,
    process_tree,
    send_all,
    start_bare,
    start_relaydesk,
    stop,
    wait_for_smtp,
    work_left,
    write_config,
)
from tests.services import fresh_postgres_database, redis_namespace  # noqa: E402

CLIENTS = 8
WARM_UP = 16
SETTLE_TIMEOUT = 900.0


@contextmanager
def installation(kind: str, sink: TimingSink, workers: int = 0, code: Path = REPO) -> Iterator[tuple[int, list, str]]:
    """A running installation: its SMTP port, its processes, its database URL."""
    with ExitStack() as stack:
        data = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="relaydesk-e2e-")))
        port = free_port()
        if kind == "embedded":
            db_url = f"sqlite:///{data}/relaydesk.db"
            config = write_config(data, port, sink.port)
        else:
            redis_url, namespace = stack.enter_context(redis_namespace())
            db_url = (stack.enter_context(fresh_postgres_database()) if kind == "pg" else f"sqlite:///{data}/relaydesk.db")
            config = write_config(data, port, sink.port, db_url if kind == "pg" else None, redis_url, namespace)
        args = ("serve",) if kind == "embedded" else ("serve", "--no-worker")
        serve = start_relaydesk(config, *args, log_name="serve.log", code=code)
        processes = [serve]
        stack.callback(lambda: [stop(p) for p in reversed(processes)])
        wait_for_smtp(port, serve, data / "serve.log")
        for n in range(workers):
            processes.append(start_relaydesk(config, "worker", log_name=f"worker{n}.log", code=code))
        yield port, processes, db_url


def settle(db_url: str, expect_inbox: int, processes: list) -> dict[str, int]:
    """Wait until every inbox row is applied and every outbox row sent (or given up on)."""
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while time.monotonic() < deadline:
        left = work_left(db_url)
        inbox = sum(v for k, v in left.items() if k.startswith("inbox_"))
        if inbox >= expect_inbox and not left.get("inbox_pending") and not left.get("outbox_pending"):
            return left
        if any(p.poll() is not None for p in processes):
            raise RuntimeError("a relaydesk process exited during the run")
        time.sleep(0.25)
    raise RuntimeError(f"not settled within {SETTLE_TIMEOUT} s: {left}")


def figures(mails: list, sent, sink: TimingSink, end: float, cpu: float | None, rss: float | None) -> dict:
    latencies = sorted(sink.first_answer[n] - sent.started[n] for n in sink.first_answer if n in sent.started)
    return {
        "mails_per_second": round(len(mails) / (end - sent.first), 1),
        "p50_latency_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "p99_latency_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1) if latencies else None,
        "answered_mails": len(latencies),
        "outbound_mails": sink.count,
        "cpu_ms_per_mail": round(cpu / len(mails) * 1000, 2) if cpu is not None else None,
        "peak_rss_mb": rss,
        "client_errors": len(sent.errors),
    }


def run_relaydesk(kind: str, workers: int, sink: TimingSink, count: int, run: int, code: Path = REPO) -> dict:
    with installation(kind, sink, workers, code) as (port, processes, db_url):
        warm = mail_mix(WARM_UP, run=run * 100 + 99)
        send_all(port, warm, CLIENTS)
        settle(db_url, WARM_UP, processes)
        sink.reset()
        pids = [pid for p in processes for pid in process_tree(p.pid)]
        cpu0 = cpu_seconds(pids)
        mails = mail_mix(count, run=run)
        sent = send_all(port, mails, CLIENTS)
        left = settle(db_url, WARM_UP + count, processes)
        cpu = cpu_seconds(pids) - cpu0
        result = figures(mails, sent, sink, sink.last, cpu, peak_rss_mb(pids))
        result["rows"] = left
        return result


def run_bare_relay(sink: TimingSink, count: int, run: int) -> dict:
    process, port = start_bare("--relay", str(sink.port))
    try:
        send_all(port, mail_mix(WARM_UP, run=run * 100 + 99), CLIENTS)
        _wait(lambda: sink.count >= WARM_UP)
        sink.reset()
        cpu0 = cpu_seconds([process.pid])
        mails = mail_mix(count, run=run)
        sent = send_all(port, mails, CLIENTS)
        _wait(lambda: sink.count >= count)
        return figures(mails, sent, sink, sink.last, cpu_seconds([process.pid]) - cpu0, peak_rss_mb([process.pid]))
    finally:
        stop(process)


def run_intake(kind: str, sink: TimingSink, count: int, run: int, code: Path = REPO) -> dict:
    """SMTP intake alone: mails/s from the first mail sent to the last 250."""
    mails = mail_mix(count, run=run)
    if kind == "bare_answer":
        process, port = start_bare("--answer")
        try:
            send_all(port, mail_mix(WARM_UP, run=run * 100 + 99), CLIENTS)
            sent = send_all(port, mails, CLIENTS)
        finally:
            stop(process)
    else:
        with installation("sqlite_redis", sink, code=code) as (port, _processes, _db):
            send_all(port, mail_mix(WARM_UP, run=run * 100 + 99), CLIENTS)
            sent = send_all(port, mails, CLIENTS)
    return {"mails_per_second": round(count / (sent.last_250 - sent.first), 1), "client_errors": len(sent.errors)}


def run_drain(workers: int, sink: TimingSink, count: int, run: int, code: Path = REPO) -> dict:
    """Fill the inbox through `serve --no-worker`, then time `workers` workers applying all of it."""
    with installation("pg", sink, code=code) as (port, processes, db_url):
        send_all(port, mail_mix(count, run=run), CLIENTS)
        started = time.perf_counter()
        for n in range(workers):
            config = Path(processes[0].args[-1])
            processes.append(start_relaydesk(config, "worker", log_name=f"drain{n}.log", code=code))
        while True:
            left = work_left(db_url)
            if not left.get("inbox_pending"):
                break
            time.sleep(0.1)
        return {"mails_per_second": round(count / (time.perf_counter() - started), 1)}


def _wait(done: Callable[[], bool], seconds: float = SETTLE_TIMEOUT) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise RuntimeError("the sink did not receive every mail in time")
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", default="embedded,pg_redis_1w,pg_redis_2w,bare_relay,intake",
                        help="comma-separated: embedded, pg_redis_1w, pg_redis_2w, bare_relay, intake")
    parser.add_argument("--drain", type=int, default=0, help="also drain a pre-filled inbox of this many mails")
    parser.add_argument("--baseline", type=Path, help="a checkout of other code: each relaydesk run is repeated "
                        "with it (name@baseline), interleaved, so both meet the same machine load")
    args = parser.parse_args()
    wanted = args.only.split(",")
    runs: dict[str, Callable[[TimingSink, int], dict]] = {
        "embedded": lambda s, r: run_relaydesk("embedded", 0, s, args.mails, r),
        "pg_redis_1w": lambda s, r: run_relaydesk("pg", 1, s, args.mails, r),
        "pg_redis_2w": lambda s, r: run_relaydesk("pg", 2, s, args.mails, r),
        "bare_relay": lambda s, r: run_bare_relay(s, args.mails, r),
        "intake_relaydesk": lambda s, r: run_intake("relaydesk", s, args.mails, r),
        "intake_bare_answer": lambda s, r: run_intake("bare_answer", s, args.mails, r),
    }
    if args.drain:
        runs["drain_1w"] = lambda s, r: run_drain(1, s, args.drain, r)
        runs["drain_2w"] = lambda s, r: run_drain(2, s, args.drain, r)
    if args.baseline:
        base = args.baseline.resolve()
        runs.update({
            "embedded@baseline": lambda s, r: run_relaydesk("embedded", 0, s, args.mails, r, base),
            "pg_redis_1w@baseline": lambda s, r: run_relaydesk("pg", 1, s, args.mails, r, base),
            "pg_redis_2w@baseline": lambda s, r: run_relaydesk("pg", 2, s, args.mails, r, base),
            "intake_relaydesk@baseline": lambda s, r: run_intake("relaydesk", s, args.mails, r, base),
            "drain_1w@baseline": lambda s, r: run_drain(1, s, args.drain, r, base),
            "drain_2w@baseline": lambda s, r: run_drain(2, s, args.drain, r, base),
        })
    order = [n for n in runs if "@" not in n]
    chosen = sorted((n for n in runs if _chosen(n.partition("@")[0], wanted, args.drain)),
                    key=lambda n: (order.index(n.partition("@")[0]), n))  # each beside its baseline
    rounds: dict[str, list[dict]] = {name: [] for name in chosen}
    with TimingSink() as sink:
        for run in range(args.rounds):
            for name in chosen:
                sink.reset()
                rounds[name].append(runs[name](sink, run))
                print(f"round {run + 1} {name}: {rounds[name][-1]}", file=sys.stderr, flush=True)
    medians = {name: _medians(results) for name, results in rounds.items()}
    ratios = {}
    for name in ("intake_relaydesk", "intake_relaydesk@baseline"):
        if name in medians:
            ratios[f"{name}_to_bare_answer"] = round(
                medians[name]["mails_per_second"] / medians["intake_bare_answer"]["mails_per_second"], 3)
    if "embedded" in medians and "bare_relay" in medians:
        ratios["embedded_to_bare_relay"] = round(
            medians["embedded"]["mails_per_second"] / medians["bare_relay"]["mails_per_second"], 3)
    pairs = [("pg_redis_2w", "pg_redis_1w"), ("drain_2w", "drain_1w")]
    pairs += [(name, f"{name}@baseline") for name in medians if f"{name}@baseline" in medians]
    for a, b in pairs:
        if a in medians and b in medians:
            ratios[f"{a}_to_{b}"] = round(medians[a]["mails_per_second"] / medians[b]["mails_per_second"], 3)
    json.dump({"benchmark": "e2e", "mails": args.mails, "clients": CLIENTS, "rounds": args.rounds,
               "medians": medians, "ratios": ratios, "per_round": rounds}, sys.stdout, indent=2)
    sys.stdout.write("\n")


def _chosen(name: str, wanted: list[str], drain: int) -> bool:
    return (name in wanted or (name.startswith("intake_") and "intake" in wanted)
            or (name.startswith("drain_") and drain > 0))


def _medians(results: list[dict]) -> dict:
    keys = [k for k, v in results[0].items() if isinstance(v, (int, float)) and v is not None]
    return {k: statistics.median(r[k] for r in results if r.get(k) is not None) for k in keys}


if __name__ == "__main__":
    main()

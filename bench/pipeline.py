"""Pipeline benchmark: inbox items processed per second, on SQLite and PostgreSQL.

Each mail is stored through `intake.accept_raw` first (not timed), then
`process_inbox_item` is timed per item: parse, thread, store, queue the
acknowledgement, commit.  Also reported: CPU time and SQL statements per
item (the half of the mails that open tickets cost the most).  Half the mails open tickets (distinct customers,
so every one gets an ack), half are replies threading by In-Reply-To to one
of them.  A fresh temporary database and blob store per backend; PostgreSQL
is skipped when not reachable.  Prints JSON.

    python bench/pipeline.py [--mails 400]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import event  # noqa: E402  (after the path tweak)

from gateway.channels.intake import accept_raw  # noqa: E402
from gateway.core.runtime import Runtime  # noqa: E402
from gateway.pipeline.runner import process_inbox_item  # noqa: E402
from tests.conftest import demo_config  # noqa: E402  (after the path tweak)
from tests.services import PG_URL, fresh_postgres_database, port_open  # noqa: E402

QUOTE = "\r\n".join(f"> line {i} of the earlier conversation about the printer" for i in range(30))


def _mails(count: int) -> list[bytes]:
    mails = []
    for n in range(count):
        customer = n // 2
        if n % 2 == 0:
            head = f"Subject: Printer {customer} jams\r\nMessage-ID: <c{customer}@client.example>\r\n"
            body = "The printer jams on tray 2 every morning.\r\n"
        else:
            head = (f"Subject: Re: Printer {customer} jams\r\nMessage-ID: <r{customer}@client.example>\r\n"
                    f"In-Reply-To: <c{customer}@client.example>\r\nReferences: <c{customer}@client.example>\r\n")
            body = f"It also happens on tray 1.\r\n\r\nOn Monday you wrote:\r\n{QUOTE}\r\n"
        mails.append((f"From: Customer {customer} <c{customer}@client.example>\r\nTo: support@vendor.example\r\n"
                      f"{head}Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\n{body}").encode())
    return mails


def _run(db_url: str | None, data: Path, mails: list[bytes]) -> dict:
    runtime = Runtime.open(demo_config(data, db_url))
    statements = []

    def count(_conn, _cursor, statement: str, *_args: object) -> None:  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE", "PRAGMA")):
            statements.append(1)

    try:
        ids = [accept_raw(runtime, "smtp", raw, {"rcpt_tos": ["support@vendor.example"]}) for raw in mails]
        event.listen(runtime.db.engine, "before_cursor_execute", count)
        durations = []
        started, cpu = time.perf_counter(), time.process_time()
        for inbox_id in ids:
            t0 = time.perf_counter()
            process_inbox_item(runtime, inbox_id)
            durations.append(time.perf_counter() - t0)
        total, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        runtime.close()
    durations.sort()
    return {
        "items": len(ids),
        "items_per_second": round(len(ids) / total, 1),
        "p50_ms": round(statistics.median(durations) * 1000, 2),
        "p95_ms": round(durations[int(len(durations) * 0.95) - 1] * 1000, 2),
        "max_ms": round(durations[-1] * 1000, 2),
        # CPU time is what the machine's other load disturbs least; statements include the claim's
        "cpu_ms_per_item": round(cpu / len(ids) * 1000, 2),
        "statements_per_item": round(len(statements) / len(ids), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=400)
    args = parser.parse_args()
    mails = _mails(args.mails)
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = _run(None, Path(tmp) / "sqlite", mails)
    if port_open(PG_URL, 5432):
        with tempfile.TemporaryDirectory() as tmp, fresh_postgres_database() as url:
            results["postgresql"] = _run(url, Path(tmp), mails)
    else:
        results["postgresql"] = f"skipped: not reachable at {PG_URL}"
    json.dump({"benchmark": "pipeline", "mails": args.mails, **results}, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

"""Web desk benchmark: the Chains and Ticket pages of an account with 10,000 tickets.

Builds the demo world with `--tickets` vendor tickets, `--chains` of them
open and handed down a chain (vendor → partner → subco, 3 hops on average:
2, 3 or 4), the rest finished; each ticket has a requester and a few
messages, each link its events.  Then signs dana in to a desk running in
this process on a real socket and measures:
- server time (the `Server-Timing` header) of `--requests` Chains pages
  (first pages, later pages, filters, a search) and as many Ticket pages of
  chain roots, one request at a time, after one warm-up request per kind
  (SQLAlchemy compiles each query shape once per process): p50 and p95;
- requests per second with `--clients` concurrent clients for `--seconds`.
Prints JSON, with the machine's load average (figures from a busy machine
are not figures of the code).

    python bench/web.py [--db sqlite|postgresql+psycopg://…] [--tickets 10000] [--chains 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import tomllib
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import insert, select  # noqa: E402  (after the path tweak)

from gateway.core.config import parse_config  # noqa: E402
from gateway.core.runtime import Runtime  # noqa: E402
from gateway.desk.reports import nearest_rank  # noqa: E402
from storage.models import Account, Event, Link, Message, Participant, Ticket  # noqa: E402
from tests.conftest import demo_config_text  # noqa: E402
from tests.web.desk_client import client, start_desk  # noqa: E402

CHAIN_DEPTHS = (2, 3, 4)  # tickets per chain; 3 on average


def build(runtime: Runtime, tickets: int, chains: int, seed: int = 7) -> list[str]:
    """Insert the world in bulk; returns the refs of the open chains' roots."""
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    with runtime.db.transaction() as session:
        accounts = {a.slug: a for a in session.scalars(select(Account))}
        next_number = {slug: 0 for slug in accounts}
        rows: dict[type, list[dict]] = {Ticket: [], Link: [], Participant: [], Message: [], Event: []}
        ids = {"ticket": 0, "link": 0, "message": 0}

        def ticket(slug: str, status: str, created: datetime, subject: str) -> int:
            ids["ticket"] += 1
            next_number[slug] += 1
            account = accounts[slug]
            rows[Ticket].append(dict(id=ids["ticket"], account_id=account.id, number=next_number[slug],
                                     ref=f"{account.prefix}-{next_number[slug]}", subject=subject, status=status,
                                     created_at=created, updated_at=created + timedelta(minutes=rng.randint(1, 600))))
            for n in range(3):
                ids["message"] += 1
                rows[Message].append(dict(id=ids["message"], ticket_id=ids["ticket"], source_key=f"bench:{n}",
                                          direction="in", visibility=("public", "internal", "partner")[n],
                                          channel="smtp", from_name="Someone", from_email="someone@client.example",
                                          to=[], cc=[], subject=subject, text="Lorem ipsum dolor sit amet. " * 8,
                                          elided="", unverified=False, created_at=created + timedelta(minutes=n)))
            rows[Event].append(dict(ticket_id=ids["ticket"], type="ticket_created", detail={}, at=created))
            return ids["ticket"]

        def link(parent: int, child: int, created: datetime, state: str) -> None:
            ids["link"] += 1
            accepted = created + timedelta(hours=rng.uniform(0.2, 30)) if state != "handed_off" else None
            resolved = accepted + timedelta(hours=rng.uniform(1, 90)) if state in ("resolved", "rated") else None
            rows[Link].append(dict(id=ids["link"], parent_ticket_id=parent, child_ticket_id=child, state=state,
                                   created_at=created, accepted_at=accepted, resolved_at=resolved,
                                   rating=rng.randint(2, 5) if state == "rated" else None))
            for ticket_id in (parent, child):
                rows[Event].append(dict(ticket_id=ticket_id, link_id=ids["link"], type="link_handed_off", detail={},
                                        at=created))

        roots: list[str] = []
        per_chain_slugs = ("vendor", "partner", "subco", "fixit")
        for n in range(tickets):
            created = now - timedelta(days=rng.uniform(0, 120))
            open_chain = n < chains
            subject = f"Printer {n} jams on tray {n % 4 + 1}"
            root = ticket("vendor", rng.choice(("open", "pending")) if open_chain else rng.choice(("closed", "resolved")),
                          created, subject)
            rows[Participant].append(dict(ticket_id=root, role="requester", name=f"Customer {n}",
                                          email=f"customer{n}@client.example"))
            if open_chain:
                roots.append(rows[Ticket][-1]["ref"])
            depth = rng.choice(CHAIN_DEPTHS) if open_chain or rng.random() < 0.3 else 1
            parent = root
            for level in range(1, depth):
                handed = created + timedelta(hours=level)
                child = ticket(per_chain_slugs[level], "open" if open_chain else "closed", handed, subject)
                link(parent, child, handed, rng.choice(("handed_off", "accepted")) if open_chain else "rated")
                parent = child
        for model, batch in rows.items():
            for start in range(0, len(batch), 2000):
                session.execute(insert(model), batch[start:start + 2000])
        for slug, account in accounts.items():
            account.last_number = next_number[slug]
    if runtime.db.dialect == "postgresql":  # as autovacuum would after a bulk load: the planner needs statistics
        with runtime.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("ANALYZE")
    return roots


def percentiles(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(statistics.median(values), 1), "p95_ms": round(nearest_rank(values, 0.95), 1),
            "max_ms": round(max(values), 1), "n": len(values)}


def server_ms(response) -> float:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, (response.status_code, response.url)
    timing = response.headers["server-timing"]
    return float(timing.partition("dur=")[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite")
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--chains", type=int, default=2_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        data = tomllib.loads(demo_config_text(Path(tmp)))
        if args.db != "sqlite":
            data["storage"]["url"] = args.db
        runtime = Runtime.open(parse_config(data))
        stack.callback(runtime.close)
        started = time.perf_counter()
        roots = build(runtime, args.tickets, args.chains)
        built = time.perf_counter() - started
        base = start_desk(stack, runtime)
        desk = client(stack, base)
        desk.sign_in(runtime.config, "dana@vendor.example")
        rng = random.Random(11)
        chain_paths = ["/", "/?page=2", "/?page=40", "/?waiting=partner", "/?waiting=us&status=all",
                       "/?partner=partner", "/?q=customer1", "/?q=tray+3&page=3"]
        for path in chain_paths + [f"/t/{root}" for root in roots[:5]]:  # first use of each query: compiled, cached
            server_ms(desk.get(path))
        chains_ms = [server_ms(desk.get(chain_paths[i % len(chain_paths)])) for i in range(args.requests)]
        ticket_ms = [server_ms(desk.get(f"/t/{rng.choice(roots)}")) for _ in range(args.requests)]

        done: list[int] = []
        stop = time.monotonic() + args.seconds
        cookies = dict(desk.client.cookies)

        def hammer(n: int) -> None:
            with ExitStack() as own:
                mine = client(own, base)
                mine.client.cookies.update(cookies)
                count, local = 0, random.Random(n)
                while time.monotonic() < stop:
                    path = local.choice(chain_paths) if count % 2 else f"/t/{local.choice(roots)}"
                    server_ms(mine.get(path))
                    count += 1
                done.append(count)

        threads = [threading.Thread(target=hammer, args=(n,)) for n in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        json.dump({
            "database": runtime.db.dialect,
            "load_average_1m": round(os.getloadavg()[0], 2),  # the machine is shared: read figures against it
            "tickets": args.tickets, "open_chains": args.chains, "build_seconds": round(built, 1),
            "chains_page": percentiles(chains_ms),
            "ticket_page": percentiles(ticket_ms),
            "concurrent": {"clients": args.clients, "seconds": args.seconds,
                           "requests_per_second": round(sum(done) / args.seconds, 1)},
        }, sys.stdout, indent=2)
        sys.stdout.write("\n")


if __name__ == "__main__":
    main()

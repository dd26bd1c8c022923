"""API benchmark: GET one ticket and the ticket list at 10,000 tickets, with 8 clients at once.

Fills a fresh database (SQLite by default, or `--db-url` PostgreSQL) with
`--tickets` tickets of the demo account `vendor`, each opened by a customer's
message through the domain functions the pipeline uses; serves the API with
uvicorn on a local socket, as `relaydesk serve` would; then `--clients`
threads, each with its own keep-alive connection and a bearer token, send
`--seconds` of `GET /api/v1/tickets/VND-<random>` and then of
`GET /api/v1/tickets?limit=50&cursor=<random>`.  Prints JSON: requests,
requests/s, p50 and p95 in milliseconds for each.

    python bench/api.py [--tickets 10000] [--clients 8] [--seconds 10] [--db-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("RELAYDESK_SECRET", "bench-secret-not-for-production")

import httpx  # noqa: E402  (after the path tweak)
import uvicorn  # noqa: E402
from fastapi import FastAPI  # noqa: E402

from gateway.core.api_tokens import create_token  # noqa: E402
from gateway.core.config import parse_config  # noqa: E402
from gateway.core.runtime import Runtime  # noqa: E402
from gateway.desk.participants import add_participant  # noqa: E402
from gateway.desk.tickets import NewMessage, add_message, open_ticket  # noqa: E402
from gateway.web.api import api_app  # noqa: E402
from parsers.message import Address  # noqa: E402
from storage.repositories import account_by_slug  # noqa: E402

BATCH = 500


def world(data: Path, db_url: str | None) -> Runtime:
    config = {
        "storage": {"url": db_url or f"sqlite:///{data}/relaydesk.db", "blobs": str(data / "blobs")},
        "security": {"secret": os.environ["RELAYDESK_SECRET"]},
        "accounts": [{"slug": "vendor", "name": "Vendor Ltd", "prefix": "VND", "addresses": ["support@vendor.example"],
                      "agents": [{"name": "Dana", "email": "dana@vendor.example"}]}],
    }
    return Runtime.open(parse_config(config))


def fill(runtime: Runtime, tickets: int) -> float:
    """Open `tickets` tickets, each with its requester and first message; seconds taken."""
    started = time.perf_counter()
    for first in range(0, tickets, BATCH):
        with runtime.db.transaction() as session:
            account = account_by_slug(session, "vendor")
            for n in range(first, min(first + BATCH, tickets)):
                customer = Address(f"Customer {n}", f"customer{n}@client.example")
                ticket = open_ticket(session, account, f"Printer {n} jams", by=customer.email)
                add_participant(session, ticket, "requester", customer)
                add_message(session, ticket, NewMessage(
                    source_key=f"bench:{n}", direction="in", visibility="public", channel="smtp", sender=customer,
                    to=["support@vendor.example"], subject=ticket.subject, text="It jams on every page.\n" * 5,
                    rfc_message_id=f"<bench-{n}@client.example>"))
    return time.perf_counter() - started


def hammer(base_url: str, token: str, clients: int, seconds: float, path: Callable[[random.Random], str]) -> dict:
    """`clients` threads sending GETs for `seconds`; their latencies and throughput."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    deadline = time.perf_counter() + seconds

    def client(index: int) -> None:
        rng = random.Random(index)
        with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = http.get(path(rng))
                latencies[index].append(time.perf_counter() - started)
                errors[index] += response.status_code != 200

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    every = sorted(t for per_client in latencies for t in per_client)
    return {
        "requests": len(every),
        "errors": sum(errors),
        "requests_per_second": round(len(every) / elapsed, 1),
        "p50_ms": round(statistics.median(every) * 1000, 2),
        "p95_ms": round(every[max(0, int(0.95 * len(every)) - 1)] * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--db-url", default=None, help="An empty PostgreSQL database (default: SQLite in a temp dir).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="relaydesk-bench-api-") as tmp:
        runtime = world(Path(tmp), args.db_url)
        fill_seconds = fill(runtime, args.tickets)
        with runtime.db.transaction() as session:
            token = create_token(session, account_by_slug(session, "vendor"), "bench", "read")[1]
        app = FastAPI()
        app.mount("/api/v1", api_app(runtime, enqueue_outbox=lambda _: None))
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        one = hammer(base, token, args.clients, args.seconds,
                     lambda rng: f"/api/v1/tickets/VND-{rng.randint(1, args.tickets)}")
        listed = hammer(base, token, args.clients, args.seconds,
                        lambda rng: f"/api/v1/tickets?limit=50&cursor={rng.randint(0, args.tickets - 50)}")
        server.should_exit = True
        thread.join()
        runtime.close()
    print(json.dumps({
        "database": runtime.db.dialect, "tickets": args.tickets, "clients": args.clients,
        "fill_seconds": round(fill_seconds, 1), "get_ticket": one, "list_tickets_50": listed,
    }, indent=2))


def free_port() -> int:
    """A local port nothing listens on now (uvicorn takes it a moment later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


if __name__ == "__main__":
    main()

"""Partner report benchmark: `relaydesk report partners --format csv` on a large history.

Builds a fresh SQLite database with the demo accounts and N chains (default
1,000; each vendor → partner, about half going on to subco, one in five
also handed to fixit), with accept/resolve/rating figures spread over a
quarter, then times the command as an operator runs it (a subprocess, so
start-up counts) and prints JSON with the median of the runs and the target.

    python bench/report.py [--chains 1000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEMO_TOML = REPO.parent / "shared" / "scenarios" / "demo.toml"
TARGET_SECONDS = 2.0
sys.path.insert(0, str(REPO))

from sqlalchemy import insert, select  # noqa: E402  (needs the repo on sys.path)

from gateway.core.config import load_config  # noqa: E402
from gateway.core.runtime import Runtime  # noqa: E402
from storage.models import Account, Link, Ticket  # noqa: E402

START = datetime(2026, 1, 1, tzinfo=timezone.utc)


class History:
    """Generates tickets and links in memory, then writes them with bulk inserts."""

    def __init__(self, accounts: dict[str, Account], rng: random.Random) -> None:
        self.accounts = accounts
        self.rng = rng
        self.numbers = {slug: 0 for slug in accounts}
        self.tickets: list[dict] = []
        self.links: list[dict] = []

    def ticket(self, slug: str, created: datetime) -> int:
        self.numbers[slug] += 1
        account = self.accounts[slug]
        self.tickets.append({
            "id": len(self.tickets) + 1, "account_id": account.id, "number": self.numbers[slug],
            "ref": f"{account.prefix}-{self.numbers[slug]}", "subject": "Benchmark request",
            "status": "open", "created_at": created, "updated_at": created,
        })
        return len(self.tickets)

    def hand_off(self, parent: int, slug: str, created: datetime) -> None:
        """A link to a new child in `slug`, with random accept/resolve/rating stages."""
        child = self.ticket(slug, created)
        accepted = created + timedelta(minutes=self.rng.expovariate(1 / 45)) if self.rng.random() < 0.9 else None
        resolved = accepted + timedelta(hours=self.rng.expovariate(1 / 20)) if accepted and self.rng.random() < 0.8 else None
        rating = self.rng.randint(1, 5) if resolved and self.rng.random() < 0.6 else None
        state = "rated" if rating else "resolved" if resolved else "accepted" if accepted else "handed_off"
        self.links.append({
            "parent_ticket_id": parent, "child_ticket_id": child, "state": state, "created_at": created,
            "accepted_at": accepted, "resolved_at": resolved, "rating": rating,
            "rated_at": resolved + timedelta(hours=1) if rating else None,
        })

    def chain(self, created: datetime) -> None:
        root = self.ticket("vendor", created)
        self.hand_off(root, "partner", created + timedelta(minutes=10))
        if self.rng.random() < 0.5:
            self.hand_off(len(self.tickets), "subco", created + timedelta(hours=2))
        if self.rng.random() < 0.2:
            self.hand_off(root, "fixit", created + timedelta(minutes=30))


def build(config_path: Path, chains: int) -> int:
    """Fill the database named by the config; returns the number of links."""
    runtime = Runtime.open(load_config(config_path))
    try:
        with runtime.db.transaction() as session:
            accounts = {a.slug: a for a in session.scalars(select(Account))}
            history = History(accounts, random.Random(42))
            for i in range(chains):
                history.chain(START + timedelta(minutes=127 * i))
            session.execute(insert(Ticket), history.tickets)
            session.execute(insert(Link), history.links)
            for slug, number in history.numbers.items():
                accounts[slug].last_number = number
        return len(history.links)
    finally:
        runtime.close()


def time_report(config_path: Path, runs: int) -> tuple[list[float], int]:
    command = [str(REPO / ".venv" / "bin" / "relaydesk"), "report", "partners", "--format", "csv", "--config", str(config_path)]
    seconds, rows = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, check=True)
        seconds.append(time.perf_counter() - started)
        rows = len(result.stdout.splitlines()) - 1
    return seconds, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="relaydesk-bench-report-") as tmp:
        data = Path(tmp)
        config_path = data / "relaydesk.toml"
        config_path.write_text(
            DEMO_TOML.read_text(encoding="utf-8").replace("{data}", str(data))
            .replace("{smtp_port}", "0").replace("{sink_port}", "0"),
            encoding="utf-8",
        )
        links = build(config_path, args.chains)
        seconds, rows = time_report(config_path, args.runs)
    median = statistics.median(seconds)
    print(json.dumps({
        "benchmark": "report partners --format csv",
        "chains": args.chains,
        "links": links,
        "csv_rows": rows,
        "runs_seconds": [round(s, 3) for s in seconds],
        "median_seconds": round(median, 3),
        "target_seconds": TARGET_SECONDS,
        "meets_target": median <= TARGET_SECONDS,
    }, indent=2))


if __name__ == "__main__":
    main()

"""Threading at scale: per-mail pipeline time with 1,000 stored messages against 1,000,000 (SQLite).

A generated history (tickets of four messages each, every message with its
Message-ID recorded for threading, customers writing from their own
addresses) is written straight into a fresh database with SQL; then the
same mix is applied to each size and timed per item: replies threading by
In-Reply-To to a random old message, new mails from customers who wrote
before, and a dispatcher's forward of an old mail every 10 (threading by the
forwarded original's sender and subject).  The threading lookups must use
indexes: the target is the large history within 1.2x of the small one.
Prints JSON.

    python bench/threading_scale.py [--sizes 1000,1000000] [--mails 200]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import text  # noqa: E402  (after the path tweak)

from gateway.channels.intake import accept_raw  # noqa: E402
from gateway.core.runtime import Runtime  # noqa: E402
from gateway.pipeline.runner import process_inbox_item  # noqa: E402
from tests.conftest import demo_config  # noqa: E402

PER_TICKET = 4
HISTORY = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :tickets)
INSERT INTO tickets (id, account_id, number, ref, subject, status, created_at, updated_at)
SELECT i, :account, i, 'VND-' || i, 'Printer ' || i || ' jams', 'open', '2026-01-01', '2026-01-01' FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :messages)
INSERT INTO messages (id, ticket_id, source_key, direction, visibility, channel, rfc_message_id, from_name,
                      from_email, "to", cc, subject, text, elided, unverified, created_at)
SELECT i, 1 + (i - 1) / 4, 'history:' || i, 'in', 'public', 'smtp', '<h' || i || '@client.example>', '',
       'c' || (1 + (i - 1) / 4) || '@client.example', '[]', '[]', 'Printer ' || (1 + (i - 1) / 4) || ' jams',
       'The printer jams.', '', 0, '2026-01-01' FROM n;
INSERT INTO message_refs (rfc_message_id, ticket_id, account_id, message_id)
SELECT rfc_message_id, ticket_id, :account, id FROM messages;
UPDATE accounts SET last_number = :tickets WHERE id = :account;
"""


def generate(runtime: Runtime, messages: int) -> float:
    """Write the history; seconds it took."""
    started = time.perf_counter()
    with runtime.db.transaction() as session:
        account = session.execute(text("SELECT id FROM accounts WHERE slug = 'vendor'")).scalar_one()
        for statement in filter(str.strip, HISTORY.split(";")):
            session.execute(text(statement), {"tickets": messages // PER_TICKET, "messages": messages,
                                              "account": account})
    with runtime.db.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
    return time.perf_counter() - started


def mix(messages: int, mails: int, seed: int = 7) -> list[bytes]:
    pick = random.Random(seed)
    out = []
    for n in range(mails):
        k = pick.randint(1, messages)
        ticket = 1 + (k - 1) // PER_TICKET
        customer = f"c{ticket}@client.example"
        if n % 10 == 9:
            out.append((f"From: Dana Dispatcher <dana@vendor.example>\r\nTo: service@partner.example\r\n"
                        f"Cc: support@vendor.example\r\nSubject: FW: Printer {ticket} jams\r\n"
                        f"Message-ID: <fw{n}@vendor.example>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\n"
                        f"Paul, please have a look.\r\n\r\n-----Original Message-----\r\nFrom: {customer}\r\n"
                        f"Sent: Thursday, January 1, 2026 12:00 AM\r\nTo: support@vendor.example\r\n"
                        f"Subject: Printer {ticket} jams\r\n\r\nThe printer jams.\r\n").encode())
        elif n % 2:
            out.append((f"From: <{customer}>\r\nTo: support@vendor.example\r\nSubject: Re: Printer {ticket} jams\r\n"
                        f"Message-ID: <s{n}-{messages}@client.example>\r\nIn-Reply-To: <h{k}@client.example>\r\n"
                        f"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nStill jams.\r\n").encode())
        else:
            out.append((f"From: <{customer}>\r\nTo: support@vendor.example\r\nSubject: Toner {n} is empty\r\n"
                        f"Message-ID: <s{n}-{messages}@client.example>\r\n"
                        f"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nPlease send toner.\r\n").encode())
    return out


def run(messages: int, mails: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="relaydesk-scale-") as tmp:
        runtime = Runtime.open(demo_config(Path(tmp)))
        try:
            seconds = generate(runtime, messages)
            raws = mix(messages, mails)
            rcpt = {"rcpt_tos": ["support@vendor.example"]}
            ids = [accept_raw(runtime, "smtp", raw, rcpt if b"FW:" not in raw else
                              {"rcpt_tos": ["support@vendor.example", "service@partner.example"]}) for raw in raws]
            durations = []
            for inbox_id in ids:
                t0 = time.perf_counter()
                process_inbox_item(runtime, inbox_id)
                durations.append(time.perf_counter() - t0)
        finally:
            runtime.close()
    durations.sort()
    return {"stored_messages": messages, "history_seconds": round(seconds, 1),
            "p50_ms": round(statistics.median(durations) * 1000, 2),
            "p95_ms": round(durations[int(len(durations) * 0.95) - 1] * 1000, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,1000000")
    parser.add_argument("--mails", type=int, default=200)
    args = parser.parse_args()
    results = [run(int(size), args.mails) for size in args.sizes.split(",")]
    ratio = round(results[-1]["p50_ms"] / results[0]["p50_ms"], 2)
    json.dump({"benchmark": "threading at scale (SQLite)", "mails": args.mails, "results": results,
               "p50_ratio_largest_to_smallest": ratio}, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

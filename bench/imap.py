"""IMAP first-sync benchmark: relaydesk against a bare aioimaplib fetch, same run, same Dovecot.

A Dovecot started for the run holds `--mails` customer mails in INBOX, all
received before relaydesk first connects: a firm's history.  Three figures,
each the median of `--rounds` rounds (flags cleared between rounds):

- `bare_aioimaplib`: only the conversation, with the library relaydesk uses:
  login, SELECT, UID SEARCH, UID FETCH (UID INTERNALDATE BODY.PEEK[]) 25 at a
  time, UID STORE +FLAGS \\Seen per batch;
- `relaydesk_import`: the IMAP channel (fresh SQLite database each round):
  the same conversation, plus blob and inbox row committed with fsync per mail
  and the cursor advanced per batch, until every mail is an inbox row;
- `relaydesk_first_sync`: the same with the pipeline behind it (4 worker
  threads, as `serve`'s embedded worker), until every mail is a ticket
  (history: dated with its own Date, nothing sent).

With `--rtt-ms`, everything talks to Dovecot through a proxy that delays
every byte by half that in each direction, as a server across the internet
would.  Prints JSON.

    python bench/imap.py [--rounds 3] [--mails 2000] [--rtt-ms 0]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import aioimaplib

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import func, select  # noqa: E402  (after the path tweak)

from gateway.channels.imap.folder_import import FETCH_BATCH  # noqa: E402
from gateway.channels.imap.poller import ImapChannel  # noqa: E402
from gateway.core.runtime import Runtime  # noqa: E402
from gateway.pipeline.runner import process_inbox_item  # noqa: E402
from storage.models import InboxItem  # noqa: E402
from tests.conftest import demo_config  # noqa: E402
from tests.channels.imap.dovecot import PASSWORD, Dovecot, dovecot  # noqa: E402
from tests.tcp_proxy import TcpProxy  # noqa: E402

USER = "support@vendor.example"


def mail(n: int) -> bytes:
    return (
        f"From: Customer {n} <customer{n}@client.example>\r\nTo: {USER}\r\nSubject: Request {n}: printer jams\r\n"
        f"Message-ID: <imap-bench-{n}@client.example>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\n"
        + "The printer on the second floor jams on tray 2 again.\r\n" * 20
    ).encode()


def clear_flags(server: Dovecot) -> None:
    client = server.client(USER)
    client.select("INBOX")
    client.uid("STORE", "1:*", "-FLAGS.SILENT", r"(\Seen)")
    client.logout()


def baseline_seconds(server: Dovecot) -> float:
    return asyncio.run(_bare_fetch(server))


async def _bare_fetch(server: Dovecot) -> float:
    started = time.perf_counter()
    client = aioimaplib.IMAP4(host=server.host, port=server.port, timeout=60)
    await client.wait_hello_from_server()
    await client.login(USER, PASSWORD)
    await client.select("INBOX")
    found = await client.uid_search("UID", "1:*", charset=None)
    uids = [token for line in found.lines[:-1] for token in bytes(line).split() if token.isdigit()]
    fetched = 0
    for start in range(0, len(uids), FETCH_BATCH):
        batch = b",".join(uids[start:start + FETCH_BATCH]).decode()
        response = await client.uid("fetch", batch, "(UID INTERNALDATE BODY.PEEK[])")
        fetched += sum(isinstance(line, bytearray) for line in response.lines)
        await client.uid("store", batch, r"+FLAGS.SILENT (\Seen)")
    await client.logout()
    assert fetched == len(uids), (fetched, len(uids))
    return time.perf_counter() - started


def relaydesk_seconds(server: Dovecot, mails: int, with_pipeline: bool) -> float:
    """Until every mail is an inbox row (or, with the pipeline, a ticket)."""
    with tempfile.TemporaryDirectory() as data, ThreadPoolExecutor(4) as workers:
        box = {"account": "vendor", "host": server.host, "port": server.port, "security": "none", "user": USER,
               "password": PASSWORD, "poll_seconds": 60}
        runtime = Runtime.open(demo_config(Path(data), imap=[box]))
        enqueue = (lambda inbox_id: workers.submit(process_inbox_item, runtime, inbox_id)) if with_pipeline \
            else (lambda _id: None)
        channel = ImapChannel(runtime, enqueue=enqueue)
        try:
            started = time.perf_counter()
            channel.start()
            while counted(runtime, with_pipeline) < mails:
                time.sleep(0.01)
            return time.perf_counter() - started
        finally:
            channel.stop()
            workers.shutdown(wait=True)
            runtime.close()


def counted(runtime: Runtime, applied: bool) -> int:
    query = select(func.count()).select_from(InboxItem)
    if applied:
        query = query.where(InboxItem.status == "done")
    with runtime.db.transaction() as session:
        return session.scalar(query)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--mails", type=int, default=2000)
    parser.add_argument("--rtt-ms", type=float, default=0.0, help="round-trip time added between clients and Dovecot")
    args = parser.parse_args()
    rates: dict[str, list[float]] = {"bare_aioimaplib": [], "relaydesk_import": [], "relaydesk_first_sync": []}
    with dovecot([USER]) as server, TcpProxy((server.host, server.port), delay=args.rtt_ms / 2000) as proxy:
        remote = dataclasses.replace(server, host="127.0.0.1", port=proxy.port) if args.rtt_ms else server
        for n in range(1, args.mails + 1):
            server.append(USER, "INBOX", mail(n))
        for _ in range(args.rounds):
            clear_flags(server)
            rates["bare_aioimaplib"].append(args.mails / baseline_seconds(remote))
            clear_flags(server)
            rates["relaydesk_import"].append(args.mails / relaydesk_seconds(remote, args.mails, False))
            clear_flags(server)
            rates["relaydesk_first_sync"].append(args.mails / relaydesk_seconds(remote, args.mails, True))
    medians = {name: round(statistics.median(values), 1) for name, values in rates.items()}
    print(json.dumps({
        "mails": args.mails,
        "rounds": args.rounds,
        "rtt_ms": args.rtt_ms,
        "mails_per_s": medians,
        "import_vs_bare": round(medians["relaydesk_import"] / medians["bare_aioimaplib"], 3),
        "first_sync_vs_bare": round(medians["relaydesk_first_sync"] / medians["bare_aioimaplib"], 3),
        "rounds_mails_per_s": {name: [round(x, 1) for x in values] for name, values in rates.items()},
    }, indent=2))


if __name__ == "__main__":
    main()

"""IMAP import benchmark: the gateway's IMAP channel against a bare imaplib loop, same run, same Dovecot.

A Dovecot started for the run holds `--mails` customer mails in INBOX.  The
gateway's channel (gateway.channels.imap.poller, fresh SQLite database each round)
imports all of them: fetch (25 mails per UID FETCH), blob + inbox row
committed with fsync per mail, the batch flagged \\Seen, cursor advanced.
The baseline is the standard library's imaplib doing only the conversation:
UID SEARCH, then per mail UID FETCH BODY.PEEK[] and UID STORE +FLAGS \\Seen.
The flags are cleared between rounds; each figure is the median of the
rounds.  With `--rtt-ms`, both talk to Dovecot through a proxy that delays
every byte by half that in each direction, as a server across the internet
would.  Prints JSON.

    python bench/imap.py [--rounds 3] [--mails 500] [--rtt-ms 0]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import func, select  # noqa: E402  (after the path tweak)

from gateway.channels.imap.poller import ImapChannel  # noqa: E402
from gateway.core.runtime import Runtime  # noqa: E402
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
    started = time.perf_counter()
    client = server.client(USER)
    client.select("INBOX")
    _, data = client.uid("SEARCH", "UID", "1:*")
    for uid in data[0].split():
        client.uid("FETCH", uid, "(BODY.PEEK[])")
        client.uid("STORE", uid, "+FLAGS.SILENT", r"(\Seen)")
    client.logout()
    return time.perf_counter() - started


def gateway_seconds(server: Dovecot, mails: int) -> float:
    with tempfile.TemporaryDirectory() as data:
        box = {"account": "vendor", "host": server.host, "port": server.port, "security": "none", "user": USER,
               "password": PASSWORD, "poll_seconds": 60}
        runtime = Runtime.open(demo_config(Path(data), imap=[box]))
        channel = ImapChannel(runtime, enqueue=lambda _id: None)
        try:
            started = time.perf_counter()
            channel.start()
            while imported(runtime) < mails:
                time.sleep(0.01)
            return time.perf_counter() - started
        finally:
            channel.stop()
            runtime.close()


def imported(runtime: Runtime) -> int:
    with runtime.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(InboxItem))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--mails", type=int, default=500)
    parser.add_argument("--rtt-ms", type=float, default=0.0, help="round-trip time added between clients and Dovecot")
    args = parser.parse_args()
    with dovecot([USER]) as server, TcpProxy((server.host, server.port), delay=args.rtt_ms / 2000) as proxy:
        remote = dataclasses.replace(server, host="127.0.0.1", port=proxy.port) if args.rtt_ms else server
        for n in range(1, args.mails + 1):
            server.append(USER, "INBOX", mail(n))
        ours, theirs = [], []
        for _ in range(args.rounds):
            clear_flags(server)
            theirs.append(args.mails / baseline_seconds(remote))
            clear_flags(server)
            ours.append(args.mails / gateway_seconds(remote, args.mails))
    gateway, bare = statistics.median(ours), statistics.median(theirs)
    print(json.dumps({
        "mails": args.mails,
        "rounds": args.rounds,
        "rtt_ms": args.rtt_ms,
        "gateway_msgs_per_s": round(gateway, 1),
        "bare_imaplib_msgs_per_s": round(bare, 1),
        "ratio": round(gateway / bare, 3),
        "gateway_rounds": [round(x, 1) for x in ours],
        "bare_rounds": [round(x, 1) for x in theirs],
    }, indent=2))


if __name__ == "__main__":
    main()

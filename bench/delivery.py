"""Delivery benchmark: mails relayed to a smarthost across a network, kept connection against one per mail.

An aiosmtpd sink stands behind a proxy that delays every byte by half of
`--rtt-ms` in each direction, as a smarthost in another data centre would.
One thread relays `--mails` mails with the gateway's SMTP transport
(`gateway.outbound.transports.smtp.send_mail`): once as shipped, keeping the
connection for the next mail, and once with REUSE_SECONDS = 0, a new
connection (TCP, greeting, EHLO) per mail, the transport's behaviour before
it kept connections.  Rounds alternate; each figure is the median of the
rounds, in mails per second.  Prints JSON.

    python bench/delivery.py [--rounds 3] [--mails 100] [--rtt-ms 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from gateway.core.config import OutboundConfig  # noqa: E402  (after the path tweak)
from gateway.outbound.transports import smtp  # noqa: E402
from tests.smtp_sink import SmtpSink  # noqa: E402
from tests.tcp_proxy import TcpProxy  # noqa: E402

RAW = (b"From: Vendor Ltd <support@vendor.example>\r\nTo: alice@client.example\r\nSubject: [VND-1] Printer jams\r\n"
       b"Message-ID: <bench@relaydesk.vendor.example>\r\n\r\n" + b"We have received your request.\r\n" * 20)


def mails_per_second(outbound: OutboundConfig, mails: int, reuse_seconds: float) -> float:
    smtp.REUSE_SECONDS = reuse_seconds
    smtp.close_kept_connection()
    started = time.perf_counter()
    for n in range(mails):
        smtp.send_mail(RAW, "bounces@relaydesk.invalid", f"customer{n}@client.example", outbound)
    elapsed = time.perf_counter() - started
    smtp.close_kept_connection()
    return mails / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--mails", type=int, default=100)
    parser.add_argument("--rtt-ms", type=float, default=20.0)
    args = parser.parse_args()
    shipped = smtp.REUSE_SECONDS
    kept, fresh = [], []
    with SmtpSink() as sink, TcpProxy(("127.0.0.1", sink.port), delay=args.rtt_ms / 2000) as proxy:
        outbound = OutboundConfig(smarthost=f"127.0.0.1:{proxy.port}", timeout_seconds=30)
        for _ in range(args.rounds):
            fresh.append(mails_per_second(outbound, args.mails, 0.0))
            kept.append(mails_per_second(outbound, args.mails, shipped))
        connections = proxy.accepted
    ours, baseline = statistics.median(kept), statistics.median(fresh)
    print(json.dumps({
        "mails": args.mails,
        "rounds": args.rounds,
        "rtt_ms": args.rtt_ms,
        "kept_connection_msgs_per_s": round(ours, 1),
        "connection_per_mail_msgs_per_s": round(baseline, 1),
        "ratio": round(ours / baseline, 2),
        "connections_opened": connections,
        "kept_rounds": [round(x, 1) for x in kept],
        "per_mail_rounds": [round(x, 1) for x in fresh],
    }, indent=2))


if __name__ == "__main__":
    main()

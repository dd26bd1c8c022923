"""How soon new mail in INBOX and in Sent is imported: a connection per folder vs IDLE on INBOX + polling Sent.

An IMAP connection can IDLE on one folder only.  Two ways to watch INBOX and
a Sent folder, measured on one Dovecot in one run:

- `connection_per_folder` (what relaydesk does): each folder has its own
  connection and IDLEs on it;
- `idle_inbox_poll_sent`: INBOX IDLEs, Sent is looked at every
  `poll_seconds` (the same code with Sent's wait replaced by a sleep).

Each sample appends one mail at a random moment of the poll interval and
times it until it is a committed inbox row.  Prints JSON: median and max
seconds per design and folder.

    python bench/imap_latency.py [--samples 5] [--poll-seconds 10]
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

from sqlalchemy import func, select  # noqa: E402  (after the path tweak)

from gateway.channels.channel_thread import sleep_unless_stopped  # noqa: E402
from gateway.channels.imap.poller import FolderPoller, ImapChannel  # noqa: E402
from gateway.core.runtime import Runtime  # noqa: E402
from storage.models import InboxItem  # noqa: E402
from tests.channels.imap.dovecot import PASSWORD, Dovecot, dovecot  # noqa: E402
from tests.conftest import demo_config  # noqa: E402

USER = "support@vendor.example"
FOLDERS = ("INBOX", "Sent")


def mail(folder: str, n: int) -> bytes:
    return (f"From: Dana <dana@vendor.example>\r\nTo: someone@client.example\r\nSubject: {folder} {n}\r\n"
            f"Message-ID: <latency-{folder}-{n}-{time.time_ns()}@vendor.example>\r\n\r\nHello.\r\n").encode()


def stored(runtime: Runtime) -> int:
    with runtime.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(InboxItem))


def measure(server: Dovecot, design: str, samples: int, poll_seconds: float) -> dict[str, list[float]]:
    real_wait = FolderPoller._wait_for_news

    async def wait(self: FolderPoller, client: object) -> None:
        if design == "idle_inbox_poll_sent" and self.folder == "Sent":
            await sleep_unless_stopped(self.stop, self.box.poll_seconds)
        else:
            await real_wait(self, client)

    FolderPoller._wait_for_news = wait  # type: ignore[method-assign]
    seconds: dict[str, list[float]] = {folder: [] for folder in FOLDERS}
    with tempfile.TemporaryDirectory() as data:
        box = {"account": "vendor", "host": server.host, "port": server.port, "security": "none", "user": USER,
               "password": PASSWORD, "poll_seconds": poll_seconds, "sent_folders": ["Sent"]}
        runtime = Runtime.open(demo_config(Path(data), imap=[box]))
        channel = ImapChannel(runtime, enqueue=lambda _id: None)
        try:
            channel.start()
            time.sleep(2)  # both folders connected and idle (or asleep)
            for n in range(samples):
                for folder in FOLDERS:
                    time.sleep(random.uniform(0, poll_seconds))
                    before = stored(runtime)
                    started = time.monotonic()
                    server.append(USER, folder, mail(folder, n))
                    while stored(runtime) == before:
                        time.sleep(0.01)
                    seconds[folder].append(time.monotonic() - started)
        finally:
            channel.stop()
            runtime.close()
            FolderPoller._wait_for_news = real_wait  # type: ignore[method-assign]
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--poll-seconds", type=float, default=10.0)
    args = parser.parse_args()
    result: dict[str, object] = {"samples": args.samples, "poll_seconds": args.poll_seconds}
    with dovecot([USER]) as server:
        for design in ("connection_per_folder", "idle_inbox_poll_sent"):
            seconds = measure(server, design, args.samples, args.poll_seconds)
            result[design] = {folder: {"median_s": round(statistics.median(values), 2),
                                       "max_s": round(max(values), 2)} for folder, values in seconds.items()}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

"""The ceilings `bench/e2e.py` measures relaydesk against, each run as a process of its own.

`--answer`: an aiosmtpd server whose handler answers `250` and keeps nothing
(the cost of the SMTP conversation alone).  `--relay PORT`: an aiosmtpd
server that answers `250` and relays each mail to the smarthost on PORT
with aiosmtplib over a few kept connections (the cost of receiving and
sending one mail, with nothing stored, parsed or threaded).  Both print
`ready PORT` once they listen, and stop on SIGTERM.

    python bench/bare_smtp.py --answer
    python bench/bare_smtp.py --relay 2525
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import aiosmtplib  # noqa: E402  (after the path tweak)
from aiosmtpd.smtp import SMTP, Envelope, Session  # noqa: E402

RELAY_CONNECTIONS = 4


class Answer250:
    """Accept everything, keep nothing."""

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "250 OK"


class Relay:
    """Accept, then hand the mail to one of a few relaying tasks, each holding a smarthost connection."""

    def __init__(self, smarthost_port: int) -> None:
        self.port = smarthost_port
        self.queue: asyncio.Queue[tuple[str, list[str], bytes]] = asyncio.Queue()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.queue.put_nowait((envelope.mail_from or "", list(envelope.rcpt_tos), envelope.original_content or b""))
        return "250 OK"

    async def relay_forever(self) -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=self.port)
        await client.connect()
        while True:
            sender, recipients, raw = await self.queue.get()
            await client.sendmail(sender, recipients, raw)


async def serve(handler: Answer250 | Relay) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, hostname="bench.local"), "127.0.0.1", 0)
    relays = ([asyncio.create_task(handler.relay_forever()) for _ in range(RELAY_CONNECTIONS)]
              if isinstance(handler, Relay) else [])
    print(f"ready {server.sockets[0].getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    for task in relays:
        task.cancel()
    server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--answer", action="store_true")
    mode.add_argument("--relay", type=int, metavar="SMARTHOST_PORT")
    args = parser.parse_args()
    asyncio.run(serve(Answer250() if args.answer else Relay(args.relay)))


if __name__ == "__main__":
    main()

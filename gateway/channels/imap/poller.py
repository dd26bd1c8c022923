"""Inbound IMAP: every folder of every configured mailbox is watched on a connection of its own.

An IMAP connection can IDLE on one selected folder only.  So that new mail
in any watched folder (INBOX and the agents' Sent folders alike) arrives at
once, each folder has its own poller: connect, import what is new
(`folder_import`), then wait in IDLE up to `poll_seconds` where the server
offers it (sleep that long otherwise), again.  Measured against IDLE on
INBOX with Sent polled (bench/imap_latency.py, README "IMAP"): a Sent mail
then waits half a poll interval on average, which is what a dispatcher's
forward must not do; the price is one more login per folder (Dovecot's
default allows 10 per user and address).

A lost connection or a refused login is logged and retried with a growing
delay; the other folders go on.  Each folder's poller holds a lease, so
several `relaydesk serve` sharing a database import a folder once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import aioimaplib

from gateway.channels.channel_thread import ChannelThread, sleep_unless_stopped
from gateway.channels.imap.connect import ImapRefused, close_quietly, open_session
from gateway.channels.imap.folder_import import FolderImport, ImapError
from gateway.channels.poller_lease import DEFAULT_SECONDS, PollerLease
from gateway.core.config import ImapConfig
from gateway.core.runtime import Runtime
from storage.availability import is_unavailable

log = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 300.0
COMMAND_TIMEOUT_SECONDS = 60.0


class ImapChannel(ChannelThread):
    """Every configured folder's poller, on one event loop in a thread of its own."""

    thread_name = "imap"

    def __init__(self, runtime: Runtime, enqueue: Callable[[int], None]) -> None:
        super().__init__()
        self.runtime = runtime
        self.enqueue = enqueue

    async def serve(self, stop: asyncio.Event) -> None:
        pollers = [FolderPoller(self.runtime, box, folder, role, self.enqueue, stop)
                   for box in self.runtime.config.imap for folder, role in watched_folders(box)]
        await asyncio.gather(*(poller.run() for poller in pollers))



def watched_folders(box: ImapConfig) -> list[tuple[str, str]]:
    """(folder, role) of every folder the mailbox's pollers watch: "inbox" folders, then "sent" ones."""
    return [(folder, "inbox") for folder in box.folders] + [(folder, "sent") for folder in box.sent_folders]


class FolderPoller:
    """One folder of one [[imap]] mailbox: connect, import, wait for news in IDLE, again."""

    def __init__(self, runtime: Runtime, box: ImapConfig, folder: str, role: str, enqueue: Callable[[int], None],
                 stop: asyncio.Event) -> None:
        self.runtime, self.box, self.folder, self.stop = runtime, box, folder, stop
        self.name = box.mailbox
        self.importer = FolderImport(runtime, box, self.name, folder, role, enqueue, self._keep_going)
        self._retry_delay = FIRST_RETRY_SECONDS
        # Longer than one round (an IDLE wait is at most poll_seconds), so a working holder never loses it.
        self.lease = PollerLease(runtime, f"imap {self.name}/{folder}", max(DEFAULT_SECONDS, 3 * box.poll_seconds))

    async def run(self) -> None:
        """Until stopped: a session while this process holds the folder's lease; retries with a growing delay."""
        try:
            await self._run()
        finally:
            await self.lease.release()

    async def _run(self) -> None:
        while not self.stop.is_set():
            if not await self.lease.hold():
                await sleep_unless_stopped(self.stop, min(self.lease.seconds / 3, self.box.poll_seconds))
                continue
            try:
                await self._session()
                continue
            except (OSError, asyncio.TimeoutError, aioimaplib.AioImapException, ImapError, ImapRefused) as exc:
                log.warning("imap %s/%s: %s; retrying in %.0f s", self.name, self.folder, _describe(exc),
                            self._retry_delay)
            except Exception as exc:  # a bug must not end the polling of this folder for good
                if is_unavailable(exc):
                    log.warning("imap %s/%s: database unavailable; retrying in %.0f s", self.name, self.folder,
                                self._retry_delay)
                else:
                    log.exception("imap %s/%s: unexpected failure; retrying in %.0f s", self.name, self.folder,
                                  self._retry_delay)
            await sleep_unless_stopped(self.stop, self._retry_delay)
            self._retry_delay = min(self._retry_delay * 2, MAX_RETRY_SECONDS)

    async def _session(self) -> None:
        client = await open_session(self.box, COMMAND_TIMEOUT_SECONDS)
        self._retry_delay = FIRST_RETRY_SECONDS  # the delay grows only while connecting keeps failing
        try:
            while await self._keep_going():
                # Mail that arrived while a long import ran is no news to IDLE: import until nothing is new.
                while await self.importer.run(client) and await self._keep_going():
                    pass
                if self.stop.is_set():
                    return
                await self._wait_for_news(client)
        finally:
            await close_quietly(client)

    async def _keep_going(self) -> bool:
        return not self.stop.is_set() and await self.lease.hold()

    async def _wait_for_news(self, client: aioimaplib.IMAP4) -> None:
        """IDLE on the folder up to poll_seconds, or sleep that long; returns early on stop."""
        if not client.has_capability("IDLE"):
            await sleep_unless_stopped(self.stop, self.box.poll_seconds)
            return
        idle = await client.idle_start(timeout=self.box.poll_seconds)
        push = asyncio.ensure_future(client.wait_server_push(timeout=self.box.poll_seconds + 5))
        stopped = asyncio.ensure_future(self.stop.wait())
        await asyncio.wait({push, stopped}, return_when=asyncio.FIRST_COMPLETED)
        for waiter in (push, stopped):
            waiter.cancel()
        if client.has_pending_idle():
            client.idle_done()
        await asyncio.wait_for(idle, COMMAND_TIMEOUT_SECONDS)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return "the server did not answer in time"
    return str(exc) or type(exc).__name__

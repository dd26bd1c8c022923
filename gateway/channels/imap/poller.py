"""Inbound IMAP: each configured mailbox's folders are imported through intake.

Per folder the server's UIDVALIDITY and the last imported UID are kept in the
database (`imap_folders`).  Mail is read in batches, one UID FETCH of
BODY.PEEK (reading does not mark it seen) for up to FETCH_BATCH mails, so a
first import of a large folder on a distant server is not one round trip per
mail; each mail is committed by `intake.accept_raw` under the key
mailbox/folder/UIDVALIDITY/UID, and only then is the batch flagged or moved,
in one command, and the cursor moved past it.  A process killed before the
cursor caught up fetches those mails again on its next start, and intake's
key turns that into a no-op: nothing acknowledged is lost and nothing is
stored twice.

Between rounds the poller waits in IDLE on the last folder where the server
offers it (a new mail there is imported at once), otherwise it sleeps
`poll_seconds`.  A lost connection or a refused login is logged and retried
with a growing delay; the other mailboxes go on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any, TypeVar

import aioimaplib

from gateway.channels.channel_thread import (
    ChannelThread,
    in_thread,
    sleep_unless_stopped,
)
from gateway.channels.imap.connect import (
    ImapRefused,
    close_quietly,
    open_session,
    response_text,
)
from gateway.channels.imap.responses import literals_by_uid, numbers
from gateway.channels.imap.responses import uidvalidity as read_uidvalidity
from gateway.channels.imap.utf7 import folder_argument
from gateway.channels.intake import accept_raw
from gateway.channels.poller_lease import DEFAULT_SECONDS, PollerLease
from gateway.core.config import ImapConfig
from gateway.core.runtime import Runtime
from storage.availability import is_unavailable
from storage.repositories import advance_imap_cursor, imap_cursor

log = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 300.0
PROGRESS_EVERY = 100
# Mails fetched, flagged and passed by the cursor together: one round trip each way per batch, one cursor
# commit per batch.  After a crash the batch is fetched again; intake's key makes that a no-op.  A mail
# over BATCH_ALONE_BYTES is fetched on its own, so a batch holds at most about FETCH_BATCH MiB.
FETCH_BATCH = 25
BATCH_ALONE_BYTES = 1024 * 1024
COMMAND_TIMEOUT_SECONDS = 60.0
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_T = TypeVar("_T")


class ImapError(Exception):
    """The server refused something the import needs (login, a folder); the message says what."""


class ImapChannel(ChannelThread):
    """Every configured mailbox's poller, on one event loop in a thread of its own."""

    thread_name = "imap"

    def __init__(self, runtime: Runtime, enqueue: Callable[[int], None]) -> None:
        super().__init__()
        self.runtime = runtime
        self.enqueue = enqueue

    async def serve(self, stop: asyncio.Event) -> None:
        pollers = [MailboxPoller(self.runtime, box, self.enqueue, stop) for box in self.runtime.config.imap]
        await asyncio.gather(*(poller.run() for poller in pollers))


class MailboxPoller:
    """One [[imap]] mailbox: connect, import every folder, wait for news, again."""

    def __init__(self, runtime: Runtime, box: ImapConfig, enqueue: Callable[[int], None], stop: asyncio.Event) -> None:
        self.runtime = runtime
        self.box = box
        self.enqueue = enqueue
        self.stop = stop
        self.name = box.mailbox
        self.folders = [(folder, "inbox") for folder in box.folders] + [(f, "sent") for f in box.sent_folders]
        self._retry_delay = FIRST_RETRY_SECONDS
        # Longer than one round (an IDLE wait is at most poll_seconds), so a working holder never loses it.
        self.lease = PollerLease(runtime, f"imap {self.name}", max(DEFAULT_SECONDS, 3 * box.poll_seconds))

    async def run(self) -> None:
        """Until stopped: a session while this process holds the mailbox's lease; retries with a growing delay."""
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
                log.warning("imap %s: %s; retrying in %.0f s", self.name, _describe(exc), self._retry_delay)
            except Exception as exc:  # a bug must not end the polling of this mailbox for good
                if is_unavailable(exc):
                    log.warning("imap %s: database unavailable; retrying in %.0f s", self.name, self._retry_delay)
                else:
                    log.exception("imap %s: unexpected failure; retrying in %.0f s", self.name, self._retry_delay)
            await sleep_unless_stopped(self.stop, self._retry_delay)
            self._retry_delay = min(self._retry_delay * 2, MAX_RETRY_SECONDS)

    async def _session(self) -> None:
        client = await open_session(self.box, COMMAND_TIMEOUT_SECONDS)
        self._retry_delay = FIRST_RETRY_SECONDS  # the delay grows only while connecting keeps failing
        try:
            while not self.stop.is_set() and await self.lease.hold():
                for folder, role in self.folders:
                    await self._import_folder(client, folder, role)
                    if self.stop.is_set():
                        return
                await self._wait_for_news(client)
        finally:
            await close_quietly(client)

    async def _import_folder(self, client: aioimaplib.IMAP4, folder: str, role: str) -> None:
        """Import the folder's mail above the cursor, oldest first, a batch at a time."""
        response = await client.select(folder_argument(folder))
        if response.result != "OK":
            raise ImapError(f"cannot open folder {folder!r}: {response_text(response.lines)}")
        uidvalidity = read_uidvalidity(response.lines)
        if uidvalidity is None:
            raise ImapError("the server announced no UIDVALIDITY for the folder")
        last_uid = await self._db(imap_cursor, self.name, folder, uidvalidity)
        uids = await self._new_uids(client, last_uid)
        if not uids:
            return
        limit = self.runtime.config.smtp.max_message_bytes
        oversized = set(await self._new_uids(client, last_uid, "LARGER", str(limit)))
        alone = set(await self._new_uids(client, last_uid, "LARGER", str(BATCH_ALONE_BYTES))) - oversized
        if last_uid == 0:
            log.info("imap %s/%s: first import, %d message(s)%s", self.name, folder, len(uids),
                     f" since {self.box.since}" if self.box.since else "")
        done = 0
        for batch in _batches(uids, alone):
            if self.stop.is_set() or not await self.lease.hold():  # a long first import keeps its lease
                return
            await self._import_batch(client, folder, role, uidvalidity, batch, oversized)
            await self._db(advance_imap_cursor, self.name, folder, batch[-1])
            if (done + len(batch)) // PROGRESS_EVERY > done // PROGRESS_EVERY:
                log.info("imap %s/%s: %d of %d imported", self.name, folder, done + len(batch), len(uids))
            done += len(batch)

    async def _import_batch(self, client: aioimaplib.IMAP4, folder: str, role: str, uidvalidity: int,
                            batch: list[int], oversized: set[int]) -> None:
        """Fetch the batch in one command, commit each mail, then flag or move them and hand them on."""
        fetched = await self._fetch(client, [uid for uid in batch if uid not in oversized])
        stored: list[tuple[int, int]] = []
        for uid in batch:
            raw = fetched.get(uid)
            if uid in oversized:
                log.error("imap %s/%s: UID %d is larger than smtp.max_message_bytes (%d); left in the folder, "
                          "not imported", self.name, folder, uid, self.runtime.config.smtp.max_message_bytes)
            elif raw is None:  # expunged meanwhile by someone else: nothing to import
                log.info("imap %s/%s: UID %d vanished before it could be read", self.name, folder, uid)
            else:
                stored.append((uid, await self._store(folder, role, uidvalidity, uid, raw)))
        await self._after_import(client, folder, [uid for uid, _ in stored])
        for _, inbox_id in stored:
            await in_thread(self.enqueue, inbox_id)

    async def _fetch(self, client: aioimaplib.IMAP4, uids: list[int]) -> dict[int, bytes]:
        """The raw bytes of each of `uids` the server still has, by UID.

        A batch the server refuses outright is read again one mail at a time,
        so one mail it cannot read does not hold up the rest; that mail is
        reported and left in the folder, as an oversized one is.
        """
        if not uids:
            return {}
        response = await client.uid("fetch", ",".join(map(str, uids)), "(UID BODY.PEEK[])")
        fetched = literals_by_uid(response.lines)
        if response.result == "OK" or fetched:
            return fetched
        if len(uids) > 1:
            for uid in uids:
                fetched.update(await self._fetch(client, [uid]))
            return fetched
        log.error("imap %s: UID %d could not be read (%s); left in the folder, not imported", self.name, uids[0],
                  response_text(response.lines))
        return {}

    async def _new_uids(self, client: aioimaplib.IMAP4, last_uid: int, *criteria: str) -> list[int]:
        since = ("SINCE", _imap_date(date.fromisoformat(self.box.since))) if self.box.since else ()
        response = await client.uid_search("UID", f"{last_uid + 1}:*", *since, *criteria, charset=None)
        if response.result != "OK":
            raise ImapError(f"search failed: {response_text(response.lines)}")
        # "n:*" always names the folder's last mail, even below n: keep only what is new.
        return sorted(uid for uid in numbers(response.lines[:-1]) if uid > last_uid)

    async def _store(self, folder: str, role: str, uidvalidity: int, uid: int, raw: bytes) -> int:
        """Commit one mail to the inbox (a no-op for one stored before); its inbox id."""
        envelope = {
            "mail_from": "",
            "rcpt_tos": [],
            "account": self.box.account,
            "imap": {"mailbox": self.name, "folder": folder, "role": role, "uidvalidity": uidvalidity, "uid": uid},
        }
        key = f"{self.name}/{folder}/{uidvalidity}/{uid}"
        return await in_thread(accept_raw, self.runtime, "imap", raw, envelope, key)

    async def _after_import(self, client: aioimaplib.IMAP4, folder: str, uids: list[int]) -> None:
        """Flag or move imported mail, as configured; a failure here is logged, the mail is stored."""
        action = self.box.after_import
        if action == "leave" or not uids:
            return
        uid_set = ",".join(map(str, uids))
        if action == "flag":
            response = await client.uid("store", uid_set, r"+FLAGS.SILENT (\Seen)")
        elif client.has_capability("MOVE"):
            response = await client.uid("move", uid_set, folder_argument(action.removeprefix("move:")))
        else:
            response = await client.uid("copy", uid_set, folder_argument(action.removeprefix("move:")))
            if response.result == "OK":
                response = await client.uid("store", uid_set, r"+FLAGS.SILENT (\Deleted)")
        if response.result != "OK":
            log.error("imap %s/%s: UID %s imported but after_import = %r failed: %s",
                      self.name, folder, uid_set, action, response_text(response.lines))

    async def _wait_for_news(self, client: aioimaplib.IMAP4) -> None:
        """IDLE on the selected folder up to poll_seconds, or sleep that long; returns early on stop."""
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

    async def _db(self, call: Callable[..., _T], *args: Any) -> _T:
        """Run a repository call in a transaction of its own, off the event loop."""
        return await in_thread(self._in_transaction, call, *args)

    def _in_transaction(self, call: Callable[..., _T], *args: Any) -> _T:
        with self.runtime.db.transaction() as session:
            return call(session, *args)


def _batches(uids: list[int], alone: set[int]) -> Iterator[list[int]]:
    """`uids` in order, FETCH_BATCH at a time; a UID in `alone` (a large mail) makes a batch of its own."""
    batch: list[int] = []
    for uid in uids:
        if uid in alone:
            if batch:
                yield batch
            yield [uid]
            batch = []
            continue
        batch.append(uid)
        if len(batch) == FETCH_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _imap_date(day: date) -> str:
    return f"{day.day:02d}-{_MONTHS[day.month - 1]}-{day.year}"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return "the server did not answer in time"
    return str(exc) or type(exc).__name__

"""Importing what is new in one folder, over a session the folder's poller holds.

Per folder the server's UIDVALIDITY and the last imported UID are kept in the
database (`imap_folders`), with the moment relaydesk first opened the folder.
Mail is read in batches, one UID FETCH of INTERNALDATE and BODY.PEEK (reading
does not mark it seen) for up to FETCH_BATCH mails; each mail is committed by
intake under the key mailbox/folder/UIDVALIDITY/UID, and only then is the
batch flagged or moved, in one command, and the cursor moved past it.  A
process killed before the cursor caught up fetches those mails again, and
intake's key turns that into a no-op: nothing is lost, nothing stored twice.

Mail the server received before the folder was first opened (or before
`history_until`) is stored as history (see `gateway.pipeline.history`): the
decision rests on the server's INTERNALDATE, which is the same on every
re-read, so a restart or a `kill -9` mid-import cannot turn history live.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

import aioimaplib

from gateway.channels.channel_thread import in_thread
from gateway.channels.imap.connect import response_text
from gateway.channels.imap.responses import FetchedMail, mails_by_uid, numbers
from gateway.channels.imap.responses import uidvalidity as read_uidvalidity
from gateway.channels.imap.utf7 import folder_argument
from gateway.channels.intake import accept_raw_once
from gateway.core.config import ImapConfig
from gateway.core.runtime import Runtime
from storage.channel_models import ImapFolder
from storage.imap_repositories import advance_imap_cursor, imap_cursor, mark_imap_synced

log = logging.getLogger(__name__)

PROGRESS_EVERY = 100
# Mails fetched, flagged and passed by the cursor together: one round trip each way per batch, one cursor
# commit per batch.  After a crash the batch is fetched again; intake's key makes that a no-op.  A mail
# over BATCH_ALONE_BYTES is fetched on its own, so a batch holds at most about FETCH_BATCH MiB.
FETCH_BATCH = 25
BATCH_ALONE_BYTES = 1024 * 1024
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class ImapError(Exception):
    """The server refused something the import needs (a folder, a search); the message says what."""


@dataclass
class Tally:
    """What one run over a folder did, for the progress lines and the final one."""

    imported: int = 0
    skipped: int = 0  # stored before (a batch read again after a restart), or gone before it could be read
    kept_aside: int = 0  # left in the folder, reported: larger than smtp.max_message_bytes, or unreadable
    started: float = field(default_factory=time.monotonic)

    @property
    def seen(self) -> int:
        return self.imported + self.skipped + self.kept_aside

    def final_line(self) -> str:
        seconds = time.monotonic() - self.started
        rate = self.imported / seconds if seconds > 0 else 0.0
        return (f"{self.imported} imported, {self.skipped} skipped, {self.kept_aside} kept aside "
                f"in {seconds:.1f} s ({rate:.1f} mails/s)")


class FolderImport:
    """One folder of one [[imap]] mailbox: what is above the cursor, oldest first, a batch at a time."""

    def __init__(self, runtime: Runtime, box: ImapConfig, name: str, folder: str, role: str,
                 enqueue: Callable[[int], None], keep_going: Callable[[], Any]) -> None:
        self.runtime, self.box, self.name, self.folder, self.role = runtime, box, name, folder, role
        self.enqueue = enqueue
        self.keep_going = keep_going  # async () -> bool: still ours to do (not stopped, lease held)
        self.unreadable: set[int] = set()  # UIDs the server would not hand over, reported by `_fetch`

    async def run(self, client: aioimaplib.IMAP4) -> int:
        """Select the folder and import what is new; how many new mails were found.

        The first sync ends with its final line.
        """
        response = await client.select(folder_argument(self.folder))
        if response.result != "OK":
            raise ImapError(f"cannot open folder {self.folder!r}: {response_text(response.lines)}")
        validity = read_uidvalidity(response.lines)
        if validity is None:
            raise ImapError("the server announced no UIDVALIDITY for the folder")
        cursor: ImapFolder = await self._db(imap_cursor, self.name, self.folder, validity, _now())
        first_sync = cursor.connected_at is not None and cursor.synced_at is None
        uids = await self._new_uids(client, cursor.last_uid)
        tally = Tally()
        if first_sync:
            log.info("imap %s/%s: first import, %d message(s)%s; mail received before %s is history",
                     self.name, self.folder, len(uids), f" since {self.box.since}" if self.box.since else "",
                     self._history_until(cursor).isoformat(timespec="seconds"))
        if uids:
            limit = self.runtime.config.smtp.max_message_bytes
            oversized = set(await self._new_uids(client, cursor.last_uid, "LARGER", str(limit)))
            alone = set(await self._new_uids(client, cursor.last_uid, "LARGER", str(BATCH_ALONE_BYTES))) - oversized
            for batch in _batches(uids, alone):
                if not await self.keep_going():  # a long first import keeps its lease
                    return tally.seen
                await self._import_batch(client, cursor, batch, oversized, tally)
                await self._db(advance_imap_cursor, self.name, self.folder, batch[-1])
                if tally.seen // PROGRESS_EVERY > (tally.seen - len(batch)) // PROGRESS_EVERY:
                    log.info("imap %s/%s: %d of %d imported", self.name, self.folder, tally.seen, len(uids))
        if first_sync and await self._db(mark_imap_synced, self.name, self.folder, _now()):
            log.info("imap %s/%s: first import done: %s", self.name, self.folder, tally.final_line())
        return len(uids)

    async def _import_batch(self, client: aioimaplib.IMAP4, cursor: ImapFolder, batch: list[int],
                            oversized: set[int], tally: Tally) -> None:
        """Fetch the batch in one command, commit each mail, then flag or move them and hand them on."""
        fetched = await self._fetch(client, [uid for uid in batch if uid not in oversized])
        stored: list[tuple[int, int]] = []
        for uid in batch:
            mail = fetched.get(uid)
            if uid in oversized:
                tally.kept_aside += 1
                log.error("imap %s/%s: UID %d is larger than smtp.max_message_bytes (%d); left in the folder, "
                          "not imported", self.name, self.folder, uid, self.runtime.config.smtp.max_message_bytes)
            elif uid in self.unreadable:
                tally.kept_aside += 1
            elif mail is None:  # expunged meanwhile by someone else: nothing to import
                tally.skipped += 1
                log.info("imap %s/%s: UID %d vanished before it could be read", self.name, self.folder, uid)
            else:
                inbox_id, new = await self._store(cursor, uid, mail)
                tally.imported += new
                tally.skipped += not new
                stored.append((uid, inbox_id))
        await self._after_import(client, [uid for uid, _ in stored])
        for _, inbox_id in stored:
            await in_thread(self.enqueue, inbox_id)

    async def _fetch(self, client: aioimaplib.IMAP4, uids: list[int]) -> dict[int, FetchedMail]:
        """The mails the server still has among `uids`, by UID.

        A batch the server refuses outright is read again one mail at a time,
        so one mail it cannot read does not hold up the rest; that mail is
        reported and left in the folder, as an oversized one is.
        """
        if not uids:
            return {}
        response = await client.uid("fetch", ",".join(map(str, uids)), "(UID INTERNALDATE BODY.PEEK[])")
        fetched = mails_by_uid(response.lines)
        if response.result == "OK" or fetched:
            return fetched
        if len(uids) > 1:
            for uid in uids:
                fetched.update(await self._fetch(client, [uid]))
            return fetched
        log.error("imap %s: UID %d could not be read (%s); left in the folder, not imported", self.name, uids[0],
                  response_text(response.lines))
        self.unreadable.add(uids[0])
        return {}

    async def _new_uids(self, client: aioimaplib.IMAP4, last_uid: int, *criteria: str) -> list[int]:
        since = ("SINCE", _imap_date(date.fromisoformat(self.box.since))) if self.box.since else ()
        response = await client.uid_search("UID", f"{last_uid + 1}:*", *since, *criteria, charset=None)
        if response.result != "OK":
            raise ImapError(f"search failed: {response_text(response.lines)}")
        # "n:*" always names the folder's last mail, even below n: keep only what is new.
        return sorted(uid for uid in numbers(response.lines[:-1]) if uid > last_uid)

    async def _store(self, cursor: ImapFolder, uid: int, mail: FetchedMail) -> tuple[int, bool]:
        """Commit one mail to the inbox (a no-op for one stored before); its inbox id, and whether it is new."""
        imap: dict[str, Any] = {"mailbox": self.name, "folder": self.folder, "role": self.role,
                                "uidvalidity": cursor.uidvalidity, "uid": uid}
        if self.role == "sent":  # what a Sent mail that threads nowhere yet may wait for
            imap["inbox_folders"] = list(self.box.folders)
        envelope: dict[str, Any] = {"mail_from": "", "rcpt_tos": [], "account": self.box.account, "imap": imap}
        if self._is_history(cursor, mail):
            envelope["history"] = {
                "received_at": mail.received_at.isoformat() if mail.received_at else None,
                "resolve_older_than_days": self.box.resolve_history_after_days,
                "send": ["handoff"] if self.box.notify_partners_of_history else [],
            }
        key = f"{self.name}/{self.folder}/{cursor.uidvalidity}/{uid}"
        return await in_thread(accept_raw_once, self.runtime, "imap", mail.raw, envelope, key)

    def _history_until(self, cursor: ImapFolder) -> datetime:
        """Mail received before this is history: `history_until`, else the folder's first opening (whole second,
        as INTERNALDATE has no fractions: a mail of that very second is live)."""
        if self.box.history_until is not None:
            return self.box.history_until
        return (cursor.connected_at or datetime.min.replace(tzinfo=timezone.utc)).replace(microsecond=0)

    def _is_history(self, cursor: ImapFolder, mail: FetchedMail) -> bool:
        if self.box.history_until is None and cursor.connected_at is None:
            return False  # a folder opened before history was told apart: everything new is live, as then
        if mail.received_at is None:  # a server without INTERNALDATE: what the first sync finds is history
            return cursor.synced_at is None
        return mail.received_at < self._history_until(cursor)

    async def _after_import(self, client: aioimaplib.IMAP4, uids: list[int]) -> None:
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
                      self.name, self.folder, uid_set, action, response_text(response.lines))

    async def _db(self, call: Callable[..., Any], *args: Any) -> Any:
        """Run a repository call in a transaction of its own, off the event loop."""
        return await in_thread(self._in_transaction, call, *args)

    def _in_transaction(self, call: Callable[..., Any], *args: Any) -> Any:
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


def _now() -> datetime:
    return datetime.now(timezone.utc)

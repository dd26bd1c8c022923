"""The one durable entry point for every inbound channel.

A channel hands over the raw unit exactly as received; intake makes it
durable (inbox row committed, with the unit in it when small, else after
its blob is fsynced) and returns the row's id.  Only after that may the
channel acknowledge the sender.  Intake never parses and never enqueues:
parsing belongs to the pipeline, and the channel enqueues after the commit
(`after_commit`) so a broker outage can never make us refuse mail (the
sweeper picks up anything that was not enqueued).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from gateway.core.runtime import Runtime
from storage.availability import is_unavailable
from storage.blobs import IN_ROW_LIMIT, BlobStore
from storage.db import Database
from storage.models import InboxItem

log = logging.getLogger(__name__)


def smtp_dedupe_key(raw: bytes, rcpt_tos: Iterable[str]) -> str:
    """Same bytes to the same recipients is the same delivery.

    A sender that lost our `250` retries with identical bytes; keying on them
    (plus the sorted recipients, so one mail sent separately to two hosted
    addresses stays two deliveries) turns the retry into a no-op.
    """
    digest = hashlib.sha256(raw)
    digest.update(b"\0")
    digest.update("\n".join(sorted(r.lower() for r in rcpt_tos)).encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def accept_raw(*args: Any, **kwargs: Any) -> int:
    """Store `raw` durably and record it as a pending inbox item; returns its id.

    Takes the arguments of `accept_raw_once`: (runtime, channel, raw,
    envelope, dedupe_key=None, sequence_key=None).  Idempotent on (channel,
    dedupe_key): a unit seen before returns the id of the existing row and
    stores nothing new.  Units given the same `sequence_key` are applied in
    the order stored (see the pipeline).  Any storage failure propagates, so
    the channel can answer with a temporary error and the sender retries.
    """
    return accept_raw_once(*args, **kwargs)[0]


def accept_raw_once(
    runtime: Runtime,
    channel: str,
    raw: bytes,
    envelope: dict[str, Any],
    dedupe_key: str | None = None,
    sequence_key: str | None = None,
) -> tuple[int, bool]:
    """`accept_raw`, also saying whether the unit is new (False: stored before), for an import's counts.

    Units arriving at the same moment share one commit (`GroupCommit`).
    """
    key = dedupe_key or smtp_dedupe_key(raw, envelope.get("rcpt_tos", ()))
    row = _Row.of(runtime.blobs, channel, key, raw, envelope, sequence_key)
    return _group_commit(runtime).store(row), row.new


async def accept_raw_async(runtime: Runtime, channel: str, raw: bytes, envelope: dict[str, Any],
                           after_commit: Callable[..., None]) -> int:
    """`accept_raw` for a channel on an event loop: no thread of its own is taken while the unit waits.

    The commit happens on the group committer's thread, which then calls
    `after_commit(*ids)` once for the stored units of the commit that gave
    it (the channel's enqueue: one broker message for the group) and wakes
    the caller: one hand-over per group of units instead of two per unit.
    A big unit is hashed and written to the blob store on a thread of its
    own first, so it stalls neither this loop's other sessions nor the
    committer.
    """
    def prepared() -> _Row:
        return _Row.of(runtime.blobs, channel, smtp_dedupe_key(raw, envelope.get("rcpt_tos", ())), raw, envelope)

    row = prepared() if len(raw) <= IN_ROW_LIMIT else await asyncio.get_running_loop().run_in_executor(None, prepared)
    row.after_commit = after_commit
    return await _group_commit(runtime).store_async(row)


@dataclass
class _Row:
    """An inbox row waiting for a commit, and what became of it."""

    channel: str
    dedupe_key: str
    raw_sha256: str
    size: int
    envelope: dict[str, Any]
    sequence_key: str | None
    in_row: bytes | None  # a small unit travels in its row, the commit makes it durable; a big one is a blob
    after_commit: Callable[..., None] | None = None  # called with the ids stored by the same commit
    waiter: tuple[asyncio.AbstractEventLoop, asyncio.Future[None]] | None = None
    id: int | None = None
    error: BaseException | None = None
    done: bool = False
    new: bool = True  # False: stored before, under the same key

    @classmethod
    def of(cls, blobs: BlobStore, channel: str, dedupe_key: str, raw: bytes, envelope: dict[str, Any],
           sequence_key: str | None = None) -> "_Row":
        """The row for `raw`; a big unit is written to the blob store (fsynced) now, before any commit."""
        small = len(raw) <= IN_ROW_LIMIT
        return cls(channel=channel, dedupe_key=dedupe_key,
                   raw_sha256=hashlib.sha256(raw).hexdigest() if small else blobs.put(raw), size=len(raw),
                   envelope=dict(envelope), sequence_key=sequence_key, in_row=raw if small else None)

    def outcome(self) -> int:
        if self.error is not None:
            raise self.error
        assert self.id is not None
        return self.id


class GroupCommit:
    """Concurrent deliveries share one transaction, so one commit (and fsync) answers all of them.

    Each caller queues its row.  A caller with a thread of its own then waits
    for the commit lock; whoever holds it commits every row queued so far, so
    while one commit is on its way to the disk the next callers gather behind
    it.  A caller on an event loop instead awaits its row, and a committer
    thread drains the queue until it is empty.  Nobody returns before the
    commit holding its row: the `250` still follows durability.  A batch that
    fails is retried one row at a time, so a duplicate (or any bad row) fails
    alone.
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._queued: list[_Row] = []
        self._queue_lock = threading.Lock()
        self._commit_lock = threading.Lock()
        self._draining = False

    def store(self, row: _Row) -> int:
        with self._queue_lock:
            self._queued.append(row)
        with self._commit_lock:
            batch = [] if row.done else self._take()
            self._commit(batch)
        _settle(batch)
        return row.outcome()

    async def store_async(self, row: _Row) -> int:
        loop = asyncio.get_running_loop()
        row.waiter = (loop, loop.create_future())
        with self._queue_lock:
            self._queued.append(row)
            start, self._draining = not self._draining, True
        if start:
            try:
                loop.run_in_executor(None, self._drain)
            except RuntimeError:  # the loop's executor is shut down: leave the queue to the next caller
                with self._queue_lock:
                    if row in self._queued:  # else a caller with a thread took it: its commit may still store it
                        self._queued.remove(row)
                    self._draining = False
                raise
        await row.waiter[1]
        return row.outcome()

    def _take(self) -> list[_Row]:
        with self._queue_lock:
            batch, self._queued = self._queued, []
            return batch

    def _drain(self) -> None:
        """The event loop callers' committer: commit what is queued until nothing is.

        Their `after_commit` (a broker round trip) runs before the lock is
        let go: the next batch gathers meanwhile, and measured larger
        batches beat a second committer overlapping the two.
        """
        while True:
            with self._commit_lock:
                with self._queue_lock:
                    if not self._queued:
                        self._draining = False
                        return
                batch = self._take()
                try:
                    self._commit(batch)
                except Exception:  # every row of the batch was failed; the next batch may fare better
                    log.exception("group commit failed")
                _settle(batch)

    def _commit(self, batch: list[_Row]) -> None:
        try:
            self._commit_rows(batch)
        finally:
            for row in batch:
                if not row.done:
                    row.error, row.done = row.error or RuntimeError("the group commit failed before this unit"), True

    def _commit_rows(self, batch: list[_Row]) -> None:
        if len(batch) > 1:
            try:
                self._insert(batch)
                return
            except Exception as exc:
                if is_unavailable(exc):  # no row can be stored now: every caller answers with a temporary error
                    for row in batch:
                        row.error, row.done = exc, True
                    return
                # else one row spoilt the batch (a duplicate): each is tried alone below
        for row in batch:
            try:
                self._insert([row])
            except IntegrityError as exc:
                # Seen before (a retry, a replay, or another process racing us); a
                # blob write was harmless because blobs are content-addressed.
                row.id, row.new = _find(self.runtime, row.channel, row.dedupe_key), False
                row.error = None if row.id is not None else exc
            except Exception as exc:
                row.error = exc
            row.done = True

    def _insert(self, batch: list[_Row]) -> None:
        """One multi-row INSERT … RETURNING for the batch: no unit of work to sort rows that only get ids."""
        values = [{"channel": r.channel, "dedupe_key": r.dedupe_key, "raw_sha256": r.raw_sha256, "raw": r.in_row,
                   "size": r.size, "envelope": r.envelope, "sequence_key": r.sequence_key} for r in batch]
        with self.runtime.db.transaction() as session:
            ids = session.connection().execute(_INSERT, values).scalars().all()
        for row, inbox_id in zip(batch, ids, strict=True):
            row.id, row.error, row.done = inbox_id, None, True


_INSERT = insert(InboxItem).returning(InboxItem.id, sort_by_parameter_order=True)


def _settle(batch: list[_Row]) -> None:
    """Run `after_commit` once with the ids of its stored rows, then wake the loops waiting on the batch, once each."""
    stored: dict[Callable[..., None], list[int]] = {}
    waiting: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for row in batch:
        if row.error is None and row.id is not None and row.after_commit is not None:
            stored.setdefault(row.after_commit, []).append(row.id)
        if row.waiter is not None:
            waiting.setdefault(row.waiter[0], []).append(row.waiter[1])
    for after_commit, ids in stored.items():
        try:
            after_commit(*ids)
        except Exception:  # the rows are stored: the sweeper will find them
            log.exception("inbox items %s stored, their after-commit step failed", ids)
    for loop, futures in waiting.items():
        try:
            loop.call_soon_threadsafe(_wake, futures)
        except RuntimeError:  # that loop is closed: nobody is left waiting on it
            pass


def _wake(futures: list[asyncio.Future[None]]) -> None:
    for future in futures:
        if not future.done():  # a caller whose client went away was cancelled
            future.set_result(None)


_committers: "weakref.WeakKeyDictionary[Database, GroupCommit]" = weakref.WeakKeyDictionary()
_committers_lock = threading.Lock()


def _group_commit(runtime: Runtime) -> GroupCommit:
    """The one group committer of this process for the runtime's database."""
    with _committers_lock:
        committer = _committers.get(runtime.db)
        if committer is None:
            committer = _committers[runtime.db] = GroupCommit(runtime)
        return committer


def _find(runtime: Runtime, channel: str, key: str) -> int | None:
    with runtime.db.transaction() as session:
        return session.scalar(
            select(InboxItem.id).where(InboxItem.channel == channel, InboxItem.dedupe_key == key)
        )

"""The one durable entry point for every inbound channel.

A channel hands over the raw unit exactly as received; intake makes it
durable (blob fsynced, inbox row committed) and returns the row's id.  Only
after that may the channel acknowledge the sender.  Intake never parses and
never enqueues: parsing belongs to the pipeline, and the channel enqueues
after the commit so a broker outage can never make us refuse mail (the
sweeper picks up anything that was not enqueued).
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from gateway.core.runtime import Runtime
from storage.availability import is_unavailable
from storage.db import Database
from storage.models import InboxItem


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
    digest = runtime.blobs.put(raw)
    row = _Row(channel=channel, dedupe_key=key, raw_sha256=digest, size=len(raw), envelope=dict(envelope),
               sequence_key=sequence_key)
    return _group_commit(runtime).store(row), row.new


@dataclass
class _Row:
    """An inbox row waiting for a commit, and what became of it."""

    channel: str
    dedupe_key: str
    raw_sha256: str
    size: int
    envelope: dict[str, Any]
    sequence_key: str | None
    id: int | None = None
    error: BaseException | None = None
    done: bool = False
    new: bool = True  # False: stored before, under the same key


class GroupCommit:
    """Concurrent deliveries share one transaction, so one commit (and fsync) answers all of them.

    Each caller queues its row, then waits for the commit lock; whoever
    holds it commits every row queued so far, so while one commit is on
    its way to the disk the next callers gather behind it.  Nobody returns
    before the commit holding its row: the `250` still follows durability.
    A batch that fails is retried one row at a time, so a duplicate (or
    any bad row) fails alone.
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._queued: list[_Row] = []
        self._queue_lock = threading.Lock()
        self._commit_lock = threading.Lock()

    def store(self, row: _Row) -> int:
        with self._queue_lock:
            self._queued.append(row)
        with self._commit_lock:
            if not row.done:
                with self._queue_lock:
                    batch, self._queued = self._queued, []
                self._commit(batch)
        if row.error is not None:
            raise row.error
        assert row.id is not None
        return row.id

    def _commit(self, batch: list[_Row]) -> None:
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
                # Seen before (a retry, a replay, or another process racing us); the
                # blob write was harmless because blobs are content-addressed.
                row.id, row.new = _find(self.runtime, row.channel, row.dedupe_key), False
                row.error = None if row.id is not None else exc
            except Exception as exc:
                row.error = exc
            row.done = True

    def _insert(self, batch: list[_Row]) -> None:
        with self.runtime.db.transaction() as session:
            items = [InboxItem(channel=r.channel, dedupe_key=r.dedupe_key, raw_sha256=r.raw_sha256, size=r.size,
                               envelope=r.envelope, sequence_key=r.sequence_key) for r in batch]
            session.add_all(items)
            session.flush()
        for row, item in zip(batch, items):
            row.id, row.error, row.done = item.id, None, True


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

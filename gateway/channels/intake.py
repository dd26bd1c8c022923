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
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from gateway.core.runtime import Runtime
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


def accept_raw(
    runtime: Runtime,
    channel: str,
    raw: bytes,
    envelope: dict[str, Any],
    dedupe_key: str | None = None,
    sequence_key: str | None = None,
) -> int:
    """Store `raw` durably and record it as a pending inbox item; returns its id.

    Idempotent on (channel, dedupe_key): a unit seen before returns the id of
    the existing row and stores nothing new.  Units given the same
    `sequence_key` are applied in the order stored (see the pipeline).  Any storage failure propagates,
    so the channel can answer with a temporary error and the sender retries.
    """
    key = dedupe_key or smtp_dedupe_key(raw, envelope.get("rcpt_tos", ()))
    digest = runtime.blobs.put(raw)
    try:
        with runtime.db.transaction() as session:
            item = InboxItem(
                channel=channel,
                dedupe_key=key,
                raw_sha256=digest,
                size=len(raw),
                envelope=dict(envelope),
                sequence_key=sequence_key,
            )
            session.add(item)
            session.flush()
            return item.id
    except IntegrityError:
        # Seen before (a retry, a replay, or another process racing us); the
        # blob write above was harmless because blobs are content-addressed.
        existing = _find(runtime, channel, key)
        if existing is None:
            raise
        return existing


def _find(runtime: Runtime, channel: str, key: str) -> int | None:
    with runtime.db.transaction() as session:
        return session.scalar(
            select(InboxItem.id).where(InboxItem.channel == channel, InboxItem.dedupe_key == key)
        )

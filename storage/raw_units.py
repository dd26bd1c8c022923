"""A received unit's bytes, wherever intake put them: in its inbox row when small, else in the blob store.

Either way the unit is named by its sha256 (inbox items, and the messages
stored from them, keep that name), so code reading a unit again — a
deadline hand-over re-parsing a partner's mail — asks here, not the blob
store alone.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.blobs import BlobNotFound, BlobStore
from storage.models import InboxItem


def unit_bytes(blobs: BlobStore, raw: bytes | None, sha256: str) -> bytes:
    """A unit's bytes given its inbox row's `raw` and `raw_sha256`: the row's, else the blob's (BlobNotFound)."""
    return raw if raw is not None else blobs.get(sha256)


def read_raw(session: Session, blobs: BlobStore, sha256: str) -> bytes:
    """The unit named `sha256`; BlobNotFound when neither its inbox row nor the blob store has it."""
    raw = session.scalar(
        select(InboxItem.raw).where(InboxItem.raw_sha256 == sha256, InboxItem.raw.is_not(None)).limit(1)
    )
    return unit_bytes(blobs, raw, sha256)

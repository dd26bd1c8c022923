"""A stored unit is read by its sha256 from its inbox row, else from the blob store."""

from __future__ import annotations

import hashlib

import pytest

from gateway.core.runtime import Runtime
from storage.blobs import BlobNotFound
from storage.models import InboxItem
from storage.raw_units import read_raw

SMALL = b"Subject: small\r\n\r\nkept in its row\r\n"
BIG = b"Subject: big\r\n\r\nkept as a blob\r\n"


def _store(runtime: Runtime, key: str, sha256: str, raw: bytes | None) -> None:
    with runtime.db.transaction() as session:
        session.add(InboxItem(channel="smtp", dedupe_key=key, raw_sha256=sha256, raw=raw, size=len(raw or b"")))


def test_a_unit_is_read_from_its_row_or_from_the_blob_store(runtime: Runtime) -> None:
    small_sha = hashlib.sha256(SMALL).hexdigest()
    _store(runtime, "a", small_sha, SMALL)
    big_sha = runtime.blobs.put(BIG)
    _store(runtime, "b", big_sha, None)
    with runtime.db.transaction() as session:
        assert read_raw(session, runtime.blobs, small_sha) == SMALL
        assert read_raw(session, runtime.blobs, big_sha) == BIG
        assert not runtime.blobs.exists(small_sha)


def test_a_unit_in_neither_place_is_not_found(runtime: Runtime) -> None:
    missing = hashlib.sha256(b"never stored").hexdigest()
    _store(runtime, "c", missing, None)  # its row says the blob store has it; it does not
    with runtime.db.transaction() as session, pytest.raises(BlobNotFound):
        read_raw(session, runtime.blobs, missing)

"""intake.accept_raw and accept_raw_async: durable, idempotent, one commit for units arriving together."""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time

from sqlalchemy import event, func, select

from gateway.channels.intake import accept_raw, accept_raw_async, smtp_dedupe_key
from gateway.core.runtime import Runtime
from storage.blobs import IN_ROW_LIMIT
from storage.models import InboxItem
from storage.raw_units import read_raw

RAW = b"From: alice@client.example\r\nTo: support@vendor.example\r\nSubject: hi\r\n\r\nbody\r\n"
ENVELOPE = {"mail_from": "alice@client.example", "rcpt_tos": ["support@vendor.example"]}


def _count(runtime: Runtime) -> int:
    with runtime.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(InboxItem))


def test_accept_stores_a_pending_row_with_the_unit_in_it(runtime: Runtime) -> None:
    inbox_id = accept_raw(runtime, "smtp", RAW, ENVELOPE)
    with runtime.db.transaction() as session:
        item = session.get(InboxItem, inbox_id)
        assert item.status == "pending"
        assert item.size == len(RAW)
        assert item.envelope == ENVELOPE
        assert item.dedupe_key == smtp_dedupe_key(RAW, ENVELOPE["rcpt_tos"])
        assert item.raw == RAW and item.raw_sha256 == hashlib.sha256(RAW).hexdigest()
        assert read_raw(session, runtime.blobs, item.raw_sha256) == RAW
    assert not runtime.blobs.exists(item.raw_sha256)  # no file, no fsync of its own


def test_a_unit_too_big_for_its_row_goes_to_the_blob_store(runtime: Runtime) -> None:
    big = RAW + b"x" * IN_ROW_LIMIT
    inbox_id = accept_raw(runtime, "smtp", big, ENVELOPE)
    with runtime.db.transaction() as session:
        item = session.get(InboxItem, inbox_id)
        assert item.raw is None and item.size == len(big)
        assert read_raw(session, runtime.blobs, item.raw_sha256) == big
    assert runtime.blobs.get(item.raw_sha256) == big


def test_retry_of_same_delivery_returns_existing_row(runtime: Runtime) -> None:
    first = accept_raw(runtime, "smtp", RAW, ENVELOPE)
    again = accept_raw(runtime, "smtp", RAW, {**ENVELOPE, "rcpt_tos": ["SUPPORT@vendor.example"]})
    assert again == first
    assert _count(runtime) == 1


def test_same_bytes_to_other_recipients_is_another_delivery(runtime: Runtime) -> None:
    first = accept_raw(runtime, "smtp", RAW, ENVELOPE)
    other = accept_raw(runtime, "smtp", RAW, {**ENVELOPE, "rcpt_tos": ["service@partner.example"]})
    assert other != first
    assert _count(runtime) == 2


def test_explicit_key_is_per_channel(runtime: Runtime) -> None:
    a = accept_raw(runtime, "imap", RAW, ENVELOPE, dedupe_key="box:1:42")
    b = accept_raw(runtime, "cli", RAW, ENVELOPE, dedupe_key="box:1:42")
    assert a != b
    assert accept_raw(runtime, "imap", b"other bytes", ENVELOPE, dedupe_key="box:1:42") == a


def test_recipient_order_does_not_matter() -> None:
    assert smtp_dedupe_key(RAW, ["b@x", "a@x"]) == smtp_dedupe_key(RAW, ["a@x", "b@x"])


def _mail(n: int) -> bytes:
    return RAW.replace(b"Subject: hi", f"Subject: mail {n}".encode())


def test_units_awaited_together_share_a_commit_and_are_enqueued_before_their_answer(runtime: Runtime) -> None:
    commits: list[int] = []
    enqueued: list[int] = []
    calls: list[int] = []
    event.listen(runtime.db.engine, "commit", lambda conn: commits.append(1))

    def enqueue(*inbox_ids: int) -> None:
        if not enqueued:
            time.sleep(0.2)  # the others queue behind the first batch meanwhile
        enqueued.extend(inbox_ids)
        calls.append(1)

    async def deliver(n: int) -> tuple[int, list[int]]:
        inbox_id = await accept_raw_async(runtime, "smtp", _mail(n), ENVELOPE, after_commit=enqueue)
        return inbox_id, list(enqueued)

    async def deliver_all() -> list[tuple[int, list[int]]]:
        return await asyncio.gather(*(deliver(n) for n in range(20)))

    answers = asyncio.run(asyncio.wait_for(deliver_all(), 30))
    assert len(commits) <= 2 and len(calls) == len(commits)  # 20 units: at most two commits, one enqueue each
    assert len({inbox_id for inbox_id, _ in answers}) == 20 and _count(runtime) == 20
    assert all(inbox_id in seen for inbox_id, seen in answers)  # enqueued before the caller heard back
    assert sorted(enqueued) == sorted(inbox_id for inbox_id, _ in answers)
    for n, (inbox_id, _) in enumerate(answers):
        with runtime.db.transaction() as session:
            assert session.get(InboxItem, inbox_id).raw == _mail(n)


def test_a_duplicate_or_a_failed_blob_among_awaited_units_fails_alone(runtime: Runtime, monkeypatch) -> None:
    first = accept_raw(runtime, "smtp", _mail(0), ENVELOPE)
    big = _mail(2) + b"x" * IN_ROW_LIMIT  # the only one written to the blob store

    def disk_full(data: bytes) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(runtime.blobs, "put", disk_full)
    enqueued: list[int] = []

    async def deliver_all() -> list[int | BaseException]:
        units = [_mail(0), _mail(1), big, _mail(3)]
        calls = (accept_raw_async(runtime, "smtp", unit, ENVELOPE, after_commit=lambda *ids: enqueued.extend(ids))
                 for unit in units)
        return await asyncio.gather(*calls, return_exceptions=True)

    again, one, full, three = asyncio.run(asyncio.wait_for(deliver_all(), 30))
    assert again == first  # the retry is the stored row, enqueued again
    assert isinstance(full, OSError) and full.errno == 28
    assert isinstance(one, int) and isinstance(three, int) and len({first, one, three}) == 3
    assert sorted(enqueued) == sorted([first, one, three]) and _count(runtime) == 3


def test_a_big_unit_is_hashed_and_written_off_the_event_loop(runtime: Runtime, monkeypatch) -> None:
    """Hashing and fsyncing megabytes on the loop would hold up every other SMTP session on it."""
    writers: list[threading.Thread] = []
    real_put = runtime.blobs.put

    def put(data: bytes) -> str:
        writers.append(threading.current_thread())
        return real_put(data)

    monkeypatch.setattr(runtime.blobs, "put", put)
    big = RAW + b"x" * IN_ROW_LIMIT

    async def deliver() -> tuple[threading.Thread, int]:
        inbox_id = await accept_raw_async(runtime, "smtp", big, ENVELOPE, after_commit=lambda *ids: None)
        return threading.current_thread(), inbox_id

    loop_thread, inbox_id = asyncio.run(asyncio.wait_for(deliver(), 30))
    assert len(writers) == 1 and writers[0] is not loop_thread
    with runtime.db.transaction() as session:
        assert read_raw(session, runtime.blobs, session.get(InboxItem, inbox_id).raw_sha256) == big

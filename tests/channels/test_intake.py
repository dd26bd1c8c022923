"""intake.accept_raw: durable, idempotent, one commit."""

from __future__ import annotations

from sqlalchemy import func, select

from gateway.channels.intake import accept_raw, smtp_dedupe_key
from gateway.core.runtime import Runtime
from storage.models import InboxItem

RAW = b"From: alice@client.example\r\nTo: support@vendor.example\r\nSubject: hi\r\n\r\nbody\r\n"
ENVELOPE = {"mail_from": "alice@client.example", "rcpt_tos": ["support@vendor.example"]}


def _count(runtime: Runtime) -> int:
    with runtime.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(InboxItem))


def test_accept_stores_blob_and_pending_row(runtime: Runtime) -> None:
    inbox_id = accept_raw(runtime, "smtp", RAW, ENVELOPE)
    with runtime.db.transaction() as session:
        item = session.get(InboxItem, inbox_id)
        assert item.status == "pending"
        assert item.size == len(RAW)
        assert item.envelope == ENVELOPE
        assert item.dedupe_key == smtp_dedupe_key(RAW, ENVELOPE["rcpt_tos"])
    assert runtime.blobs.get(item.raw_sha256) == RAW


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

"""Where a queued mail's bytes live: in its outbox row when small, in the blob store when big, and both deliver."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from sqlalchemy import MetaData, Table, inspect, select

from gateway.core.runtime import Runtime
from gateway.desk.participants import add_participant
from gateway.desk.tickets import open_ticket
from gateway.outbound.compose import FileRef
from gateway.outbound.delivery import deliver
from gateway.outbound.outbox import queue_mail, rendered_mail
from parsers.message import Address
from storage.blobs import IN_ROW_LIMIT, BlobStore
from storage.db import make_engine
from storage.migrate import alembic_config, current_revision, head_revision
from storage.models import Account, OutboxItem, utcnow
from tests.conftest import demo_config
from tests.outbound.helpers import outbox, queued_mail
from tests.smtp_sink import SmtpSink


def _blob_files(blobs: BlobStore) -> set[Path]:
    return {path for path in blobs.root.rglob("*") if path.is_file()}


def test_a_small_mail_is_kept_in_its_row_and_writes_no_blob(relay_runtime: Runtime, sink: SmtpSink) -> None:
    before = _blob_files(relay_runtime.blobs)
    item = outbox(relay_runtime, queued_mail(relay_runtime))
    assert _blob_files(relay_runtime.blobs) == before
    assert item.payload_sha256 is None and item.rendered is not None
    assert b"We are on it." in item.rendered and rendered_mail(relay_runtime.blobs, item) == item.rendered

    assert deliver(relay_runtime, item.id) is None
    [mail] = sink.mails
    assert mail.raw == item.rendered
    assert outbox(relay_runtime, item.id).status == "sent"


def test_a_mail_over_the_limit_goes_to_the_blob_store(relay_runtime: Runtime, sink: SmtpSink) -> None:
    scan = os.urandom(IN_ROW_LIMIT)  # base64 makes the mail a third bigger than the limit
    scan_sha = relay_runtime.blobs.put(scan)
    before = _blob_files(relay_runtime.blobs)
    with relay_runtime.db.transaction() as session:
        vendor = session.scalar(select(Account).where(Account.slug == "vendor"))
        ticket = open_ticket(session, vendor, "Printer jams on tray 2")
        alice = add_participant(session, ticket, "requester", Address("Alice", "alice@client.example"))
        outbox_id = queue_mail(session, relay_runtime, ticket, alice, kind="reply", text="The scan you asked for.",
                               attachments=[FileRef(scan_sha, "scan.bin")]).id
    item = outbox(relay_runtime, outbox_id)
    assert item.rendered is None and item.payload_sha256 is not None
    assert _blob_files(relay_runtime.blobs) - before == {relay_runtime.blobs.path(item.payload_sha256)}
    payload = rendered_mail(relay_runtime.blobs, item)
    assert len(payload) > IN_ROW_LIMIT

    assert deliver(relay_runtime, outbox_id) is None
    [mail] = sink.mails
    assert mail.raw == payload
    [attached] = mail.parsed().iter_attachments()
    assert attached.get_filename() == "scan.bin" and attached.get_content() == scan


def test_a_mail_in_neither_place_fails_for_good(relay_runtime: Runtime, sink: SmtpSink) -> None:
    outbox_id = queued_mail(relay_runtime)
    with relay_runtime.db.transaction() as session:
        item = session.get(OutboxItem, outbox_id)
        item.rendered, item.payload_sha256 = None, "0" * 64
    assert deliver(relay_runtime, outbox_id) is None
    item = outbox(relay_runtime, outbox_id)
    assert item.status == "failed" and item.error == f"rendered mail {'0' * 64} is missing from the blob store"
    assert sink.mails == []


def test_mail_queued_before_the_upgrade_is_delivered_after_it(db_url: str, tmp_path: Path, sink: SmtpSink) -> None:
    """A database at 0009 holding a pending mail in the blob store: 0010 applies and the mail still goes out."""
    engine = make_engine(db_url)
    config = alembic_config(db_url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0009")
    raw = b"From: support@vendor.example\r\nTo: alice@client.example\r\nSubject: Queued before\r\n\r\nStill here.\r\n"
    blobs = BlobStore(tmp_path / "blobs")
    with engine.begin() as connection:
        outbox_items = Table("outbox_items", MetaData(), autoload_with=connection)
        assert "rendered" not in outbox_items.c
        outbox_id = connection.execute(outbox_items.insert().values(
            kind="sign_in", channel="email", recipient="alice@client.example", envelope_from="",
            payload_sha256=blobs.put(raw), payload={}, status="pending", attempts=0,
            next_attempt_at=utcnow(), created_at=utcnow(),
        )).inserted_primary_key[0]
    engine.dispose()

    runtime = Runtime.open(demo_config(tmp_path, db_url, sink_port=sink.port))  # migrates to the head
    try:
        assert current_revision(runtime.db.engine) == head_revision()
        assert "rendered" in {c["name"] for c in inspect(runtime.db.engine).get_columns("outbox_items")}
        assert runtime.config.storage.blobs == blobs.root
        assert deliver(runtime, outbox_id) is None
        assert outbox(runtime, outbox_id).status == "sent"
        [mail] = sink.mails
        assert mail.raw == raw
    finally:
        runtime.close()

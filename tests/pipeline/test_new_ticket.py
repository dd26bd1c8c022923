"""A customer's first mail opens a ticket and gets exactly one acknowledgement."""

from __future__ import annotations

import hashlib
import os

from sqlalchemy import select

from storage.blobs import IN_ROW_LIMIT
from storage.models import Event, InboxItem
from tests.pipeline.mail import deliver, mail, outbox, sent_mail, ticket

PDF = b"%PDF-1.4 fake printer log\n" * 40


def test_first_mail_opens_ticket_with_attachment_and_queues_ack(runtime) -> None:
    inbox_id, outbox_ids = deliver(runtime, mail(attachment=("log.pdf", "application/pdf", PDF)))

    vnd1 = ticket(runtime, "VND-1")
    assert vnd1.status == "new" and vnd1.subject == "Printer jams on tray 2"
    [message] = vnd1.messages
    assert (message.direction, message.visibility, message.channel) == ("in", "public", "smtp")
    assert message.text.strip() == "The printer jams every morning."
    with runtime.db.transaction() as session:
        stored = session.get(type(message), message.id)
        [attachment] = stored.attachments
        assert attachment.sha256 == hashlib.sha256(PDF).hexdigest() and attachment.stored
        assert runtime.blobs.get(attachment.sha256) == PDF
        assert session.get(InboxItem, inbox_id).status == "done"
        types = [e.type for e in session.scalars(select(Event).where(Event.ticket_id == vnd1.id))]
    assert types == ["ticket_created", "message_added"]
    assert [p.role for p in vnd1.participants] == ["requester"]

    [ack] = outbox(runtime)
    assert outbox_ids == [ack.id]
    assert (ack.kind, ack.recipient, ack.status) == ("ack", "alice@client.example", "pending")
    assert ack.envelope_from == "bounces@vendor.example", "bounces come back to the account's domain"
    sent = sent_mail(runtime, ack)
    assert sent["Subject"] == "[VND-1] Printer jams on tray 2"
    assert sent["Auto-Submitted"] == "auto-replied"
    assert sent["Message-ID"] == ack.rfc_message_id
    assert sent["In-Reply-To"] == message.rfc_message_id
    assert sent["X-Relaydesk-Ticket"] == "VND-1" and sent["X-Relaydesk-Hops"] == "1"
    assert sent["Reply-To"].addresses[0].addr_spec.startswith("support+r")
    assert sent["From"].addresses[0].display_name == "Vendor Ltd"


def test_processing_an_item_twice_stores_one_message(runtime) -> None:
    inbox_id, first = deliver(runtime, mail())
    from gateway.pipeline.runner import process_inbox_item

    assert process_inbox_item(runtime, inbox_id) == []
    assert len(ticket(runtime, "VND-1").messages) == 1
    assert len(first) == 1 and len(outbox(runtime)) == 1


def test_second_new_mail_within_period_gets_no_second_ack(runtime) -> None:
    deliver(runtime, mail(subject="First problem"))
    _, second = deliver(runtime, mail(subject="Second problem"))
    assert ticket(runtime, "VND-2").subject == "Second problem"
    assert second == [] and [o.kind for o in outbox(runtime)] == ["ack"]


def test_agent_opening_a_ticket_gets_no_ack(runtime) -> None:
    _, out = deliver(runtime, mail(sender="Dana <dana@vendor.example>", subject="Internal request"))
    assert ticket(runtime, "VND-1").status == "new" and out == []


def test_the_ack_period_is_per_account(runtime) -> None:
    deliver(runtime, mail(subject="For the vendor"))
    deliver(runtime, mail(to="service@partner.example", subject="For the partner"), rcpt=["service@partner.example"])
    assert sorted(o.recipient for o in outbox(runtime) if o.kind == "ack") == ["alice@client.example"] * 2


def test_a_customer_writing_to_two_hosted_accounts_reaches_both(runtime) -> None:
    """Each firm gets the mail it was sent, as its own ticket with its own acknowledgement."""
    raw = mail(to="support@vendor.example", cc="service@partner.example", message_id="<both@client.example>")
    inbox_id, outbox_ids = deliver(runtime, raw, rcpt=["support@vendor.example", "service@partner.example"])

    vnd, ptn = ticket(runtime, "VND-1"), ticket(runtime, "PTN-1")
    assert [m.text.strip() for m in vnd.messages] == [m.text.strip() for m in ptn.messages] == [
        "The printer jams every morning."]
    acks = outbox(runtime)
    assert sorted(outbox_ids) == sorted(a.id for a in acks)
    assert sorted((a.kind, a.recipient, sent_mail(runtime, a)["Subject"]) for a in acks) == [
        ("ack", "alice@client.example", "[PTN-1] Printer jams on tray 2"),
        ("ack", "alice@client.example", "[VND-1] Printer jams on tray 2"),
    ]

    from gateway.pipeline.runner import process_inbox_item

    with runtime.db.transaction() as session:
        session.get(InboxItem, inbox_id).status = "pending"
    assert process_inbox_item(runtime, inbox_id) == []  # a second run stores nothing in either account
    assert len(ticket(runtime, "VND-1").messages) == len(ticket(runtime, "PTN-1").messages) == 1


def test_a_mail_too_big_for_its_inbox_row_is_read_from_the_blob_store(runtime) -> None:
    scan = os.urandom(IN_ROW_LIMIT)  # base64 makes the mail a third bigger than the limit
    inbox_id, outbox_ids = deliver(runtime, mail(attachment=("scan.bin", "application/octet-stream", scan)))
    [message] = ticket(runtime, "VND-1").messages
    with runtime.db.transaction() as session:
        item = session.get(InboxItem, inbox_id)
        assert item.status == "done" and item.raw is None and runtime.blobs.exists(item.raw_sha256)
        [attachment] = session.get(type(message), message.id).attachments
        assert runtime.blobs.get(attachment.sha256) == scan
    assert len(outbox_ids) == 1  # the acknowledgement

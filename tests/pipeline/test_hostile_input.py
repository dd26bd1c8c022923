"""Oversized header values never park an item: they are clipped to what the schema holds."""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP

from sqlalchemy import select

from storage.models import InboxItem
from tests.pipeline.mail import deliver, outbox, ticket


def _oversized_mail() -> bytes:
    message = EmailMessage(policy=SMTP)
    message["From"] = f"{'Very Long Name ' * 30} <alice@client.example>"
    message["To"] = "support@vendor.example"
    message["Cc"] = f"{'Copied Person ' * 30} <bob@client.example>"
    message["Subject"] = "Huge " * 400
    message["Message-ID"] = f"<{'x' * 1500}@client.example>"
    message.set_content("Body.")
    message.add_attachment(b"data", maintype="application", subtype="octet-stream",
                           filename=("f" * 700) + ".bin")
    return message.as_bytes()


def test_oversized_names_ids_and_filenames_are_clipped_not_parked(runtime) -> None:
    inbox_id, _ = deliver(runtime, _oversized_mail())
    with runtime.db.transaction() as session:
        item = session.scalar(select(InboxItem).where(InboxItem.id == inbox_id))
        assert (item.status, item.error) == ("done", None)
    vnd1 = ticket(runtime, "VND-1")
    [message] = vnd1.messages
    assert message.from_email == "alice@client.example" and len(message.from_name) <= 200
    assert {p.email for p in vnd1.participants} == {"alice@client.example", "bob@client.example"}
    assert [o.recipient for o in outbox(runtime)] == ["alice@client.example"]


def test_nul_bytes_and_broken_mime_are_stored_on_both_backends(runtime) -> None:
    raw = (b"From: Al\x00ice <alice@client.example>\r\nTo: support@vendor.example\r\nSubject: jam\x00med\r\n"
           b"Content-Type: multipart/mixed; boundary=\"x\"\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\n"
           b"first\x00second\r\n--x\r\nContent-Type: application/pdf; name=\"a\x00.pdf\"\r\n\r\n%PDF\x00")
    inbox_id, _ = deliver(runtime, raw)
    with runtime.db.transaction() as session:
        item = session.get(InboxItem, inbox_id)
        assert (item.status, item.error) == ("done", None)
    [message] = ticket(runtime, "VND-1").messages
    assert "\x00" not in message.text + message.subject + message.from_name

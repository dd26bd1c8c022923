"""Looping mail through the real pipeline: stored as `auto` or kept in the inbox, never answered."""

from __future__ import annotations

from sqlalchemy import select

from gateway.channels.intake import accept_raw
from gateway.core.runtime import Runtime
from gateway.pipeline.runner import process_inbox_item
from storage.models import Message, OutboxItem, Ticket


def send(runtime: Runtime, subject: str, *headers: str, message_id: str) -> list[int]:
    head = "\r\n".join(("From: Alice <alice@client.example>", "To: support@vendor.example", f"Subject: {subject}",
                        f"Message-ID: {message_id}", *headers))
    raw = f"{head}\r\n\r\nThe printer jams again.\r\n".encode()
    inbox_id = accept_raw(runtime, "smtp", raw, {"mail_from": "alice@client.example",
                                                 "rcpt_tos": ["support@vendor.example"]})
    return process_inbox_item(runtime, inbox_id)


def test_hop_limit_stores_auto_and_never_answers(runtime: Runtime) -> None:
    [ack] = send(runtime, "Printer jams", message_id="<m1@client.example>")
    max_hops = runtime.config.security.max_hops
    assert send(runtime, "Re: [VND-1] Printer jams", f"X-Relaydesk-Hops: {max_hops}",
                message_id="<m2@client.example>") == []
    assert send(runtime, "Another printer", f"X-Relaydesk-Hops: {max_hops + 3}", message_id="<m3@client.example>") == []
    with runtime.db.transaction() as session:
        assert [t.ref for t in session.scalars(select(Ticket))] == ["VND-1"]
        looped = session.scalar(select(Message).where(Message.rfc_message_id == "<m2@client.example>"))
        assert looped.visibility == "auto"
        assert [o.id for o in session.scalars(select(OutboxItem))] == [ack]


def test_our_own_mail_coming_back_opens_nothing(runtime: Runtime) -> None:
    own = f"<abc@{runtime.config.message_id_domain}>"
    assert send(runtime, "Printer jams", message_id=own) == []
    with runtime.db.transaction() as session:
        assert session.scalars(select(Ticket)).all() == []
        assert session.scalars(select(OutboxItem)).all() == []

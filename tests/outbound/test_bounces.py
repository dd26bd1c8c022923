"""Bounces through the real pipeline: VERP and DSN matches, forged and unmatched bounces, delays."""

from __future__ import annotations

import smtplib

from sqlalchemy import select

from gateway.channels.intake import accept_raw
from gateway.channels.smtp import SmtpServer
from gateway.channels.smtp_policy import RecipientPolicy
from gateway.core.runtime import Runtime
from gateway.outbound.delivery import deliver
from gateway.outbound.outbox import rendered_mail
from gateway.pipeline.runner import process_inbox_item
from storage.models import InboxItem, Message, Ticket
from tests.outbound.helpers import events, notices, outbox, queued_mail
from tests.smtp_sink import SmtpSink


def dsn(to: str, failed: str, original_message_id: str | None, status: str = "5.1.1",
        diagnostic: str = "550 5.1.1 <{failed}>: Recipient address rejected: User unknown") -> bytes:
    """A Postfix-style RFC 3464 report, as a remote MTA sends it to our return path."""
    diagnostic = diagnostic.format(failed=failed)
    returned = (f"From: Support <support@vendor.example>\r\nTo: {failed}\r\nSubject: [VND-1] Printer\r\n"
                + (f"Message-ID: {original_message_id}\r\n" if original_message_id else ""))
    action = "failed" if status.startswith("5") else "delayed"
    return (
        "From: MAILER-DAEMON@mx.client.example (Mail Delivery System)\r\n"
        f"To: {to}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn-1@mx.client.example>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\n"
        f"This is the mail system at host mx.client.example.\r\n\r\n<{failed}>: {diagnostic}\r\n\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.client.example\r\n\r\n"
        f"Final-Recipient: rfc822; {failed}\r\nAction: {action}\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: smtp; {diagnostic}\r\n\r\n"
        f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\n{returned}\r\n--B--\r\n"
    ).encode()


def sent_mail(runtime: Runtime, to: str = "nobody@client.example") -> int:
    outbox_id = queued_mail(runtime, to=to)
    assert deliver(runtime, outbox_id) is None
    assert outbox(runtime, outbox_id).status == "sent"
    return outbox_id


def sent_with_return_path(runtime: Runtime, sink: SmtpSink) -> tuple[int, str]:
    """A mail sent to the sink, and the envelope sender (VERP address) it went out with."""
    outbox_id = sent_mail(runtime)
    return outbox_id, sink.mails[-1].mail_from


def process(runtime: Runtime, raw: bytes, rcpt_to: str) -> tuple[int, list[int]]:
    inbox_id = accept_raw(runtime, "smtp", raw, {"mail_from": "", "rcpt_tos": [rcpt_to]})
    return inbox_id, process_inbox_item(runtime, inbox_id)


def inbox(runtime: Runtime, inbox_id: int) -> InboxItem:
    with runtime.db.transaction() as session:
        return session.get(InboxItem, inbox_id)


def auto_messages(runtime: Runtime) -> list[Message]:
    with runtime.db.transaction() as session:
        return list(session.scalars(select(Message).where(Message.visibility == "auto")))


def test_verp_bounce_over_smtp(relay_runtime: Runtime, sink: SmtpSink) -> None:
    """No bounce mailbox configured (as in the demo): the signed VERP address alone is accepted."""
    assert relay_runtime.config.outbound.bounce_address is None
    outbox_id, verp = sent_with_return_path(relay_runtime, sink)
    received: list[int] = []
    server = SmtpServer(relay_runtime, enqueue=lambda *inbox_ids: received.extend(inbox_ids))
    server.start()
    try:
        with smtplib.SMTP(*server.address) as client:
            client.sendmail("", [verp], dsn(verp, "nobody@client.example", original_message_id=None))
    finally:
        server.stop()
    [inbox_id] = received
    queued = process_inbox_item(relay_runtime, inbox_id)

    item = outbox(relay_runtime, outbox_id)
    assert item.status == "failed" and "5.1.1" in item.error and "User unknown" in item.error
    [event] = events(relay_runtime, "delivery_failed")
    assert event.ticket_id == item.ticket_id and event.detail["recipient"] == "nobody@client.example"
    [report] = auto_messages(relay_runtime)
    assert report.ticket_id == item.ticket_id and report.inbox_item_id == inbox_id
    [notice] = notices(relay_runtime)
    assert notice.recipient == "dana@vendor.example" and queued == [notice.id]
    notice_text = rendered_mail(relay_runtime.blobs, notice).decode()
    assert "nobody@client.example" in notice_text and "5.1.1" in notice_text
    assert inbox(relay_runtime, inbox_id).status == "done"
    assert "found by VERP" in " ".join(inbox(relay_runtime, inbox_id).problems)
    with relay_runtime.db.transaction() as session:
        assert len(session.scalars(select(Ticket)).all()) == 1  # no ticket opened for the bounce
    assert [m.rcpt_tos for m in sink.mails] == [("nobody@client.example",)]  # nothing sent in answer


def test_dsn_matched_by_original_message_id(relay_runtime: Runtime) -> None:
    outbox_id = sent_mail(relay_runtime, to="sam@subco.example")
    original = outbox(relay_runtime, outbox_id).rfc_message_id
    inbox_id, queued = process(relay_runtime, dsn("support@vendor.example", "sam@subco.example", original),
                               "support@vendor.example")
    assert outbox(relay_runtime, outbox_id).status == "failed"
    assert len(events(relay_runtime, "delivery_failed")) == 1
    assert len(auto_messages(relay_runtime)) == 1
    assert queued == [n.id for n in notices(relay_runtime)] and len(queued) == 1
    assert "found by original Message-ID" in " ".join(inbox(relay_runtime, inbox_id).problems)


def test_forged_verp_is_ignored(relay_runtime: Runtime) -> None:
    outbox_id = sent_mail(relay_runtime)
    forged = f"bounces+{outbox_id}-0123456789abcdef@vendor.example"
    assert not RecipientPolicy(relay_runtime.config).accepts(forged)
    inbox_id, queued = process(relay_runtime, dsn(forged, "nobody@client.example", None), forged)
    assert outbox(relay_runtime, outbox_id).status == "sent"
    assert queued == [] and events(relay_runtime, "delivery_failed") == [] and auto_messages(relay_runtime) == []
    item = inbox(relay_runtime, inbox_id)
    assert item.status == "done" and "matches no outbox item" in " ".join(item.problems)


def test_unmatched_bounce_is_kept_and_not_answered(relay_runtime: Runtime, sink: SmtpSink) -> None:
    inbox_id, queued = process(relay_runtime, dsn("support@vendor.example", "who@client.example", "<nope@x>"),
                               "support@vendor.example")
    item = inbox(relay_runtime, inbox_id)
    assert item.status == "done" and "<nope@x> unknown" in " ".join(item.problems)
    assert queued == [] and notices(relay_runtime) == []
    with relay_runtime.db.transaction() as session:
        assert session.scalars(select(Ticket)).all() == []


def test_delay_report_does_not_fail_the_item(relay_runtime: Runtime, sink: SmtpSink) -> None:
    outbox_id, verp = sent_with_return_path(relay_runtime, sink)
    _, queued = process(relay_runtime, dsn(verp, "nobody@client.example", None, status="4.4.7",
                                           diagnostic="delivery temporarily suspended"), verp)
    assert outbox(relay_runtime, outbox_id).status == "sent"
    assert queued == [] and events(relay_runtime, "delivery_failed") == []
    [delayed] = events(relay_runtime, "delivery_delayed")
    assert delayed.detail["recipient"] == "nobody@client.example"
    assert len(auto_messages(relay_runtime)) == 1


def test_second_bounce_for_the_same_item_tells_nobody_twice(relay_runtime: Runtime, sink: SmtpSink) -> None:
    outbox_id, verp = sent_with_return_path(relay_runtime, sink)
    process(relay_runtime, dsn(verp, "nobody@client.example", None), verp)
    second = dsn(verp, "nobody@client.example", None).replace(b"<dsn-1@", b"<dsn-2@")
    _, queued = process(relay_runtime, second, verp)
    assert queued == [] and len(notices(relay_runtime)) == 1
    assert len(events(relay_runtime, "delivery_failed")) == 1


def test_plain_text_failure_to_a_verp_address(relay_runtime: Runtime, sink: SmtpSink) -> None:
    """Some servers' reports do not look like bounces; the VERP address alone marks them."""
    outbox_id, verp = sent_with_return_path(relay_runtime, sink)
    raw = (f"From: helpdesk@client.example\r\nTo: {verp}\r\nSubject: About your mail\r\n"
           "Message-ID: <odd-1@client.example>\r\n\r\nNobody by that name works here.\r\n").encode()
    _, queued = process(relay_runtime, raw, verp)
    item = outbox(relay_runtime, outbox_id)
    assert item.status == "failed" and "without a reason" in item.error
    assert len(queued) == 1

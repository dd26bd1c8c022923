"""Delivery reports of several parts: the report is the text, the returned mail an attachment named after its subject."""

from __future__ import annotations

import base64

import pytest

from parsers import parse_message

RETURNED = ("From: Anna Berg <anna@shop.example>\r\nTo: nobody@gone.example\r\nSubject: {subject}\r\n"
            "Date: Mon, 04 Mar 2024 09:15:00 +0100\r\nMessage-ID: <orig-42@shop.example>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\nPlease pay invoice 42 by Friday.\r\n")
STATUS = ("Reporting-MTA: dns; mx.vendor.example\r\nArrival-Date: Mon, 4 Mar 2024 09:15:02 +0100\r\n\r\n"
          "Final-Recipient: rfc822; nobody@gone.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
          "Diagnostic-Code: smtp; 550 5.1.1 <nobody@gone.example>: Recipient address rejected: User unknown\r\n")


def _returned(subject: str = "Invoice 42") -> bytes:
    return RETURNED.format(subject=subject).encode()


def postfix(returned: bytes) -> bytes:
    """Postfix: text/plain report, message/delivery-status, message/rfc822 'Undelivered Message'."""
    return (b"From: MAILER-DAEMON@mx.vendor.example (Mail Delivery System)\r\nTo: anna@shop.example\r\n"
            b"Subject: Undelivered Mail Returned to Sender\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/report; report-type=delivery-status;\r\n boundary=\"6B1F3.1709540102/mx\"\r\n\r\n"
            b"--6B1F3.1709540102/mx\r\nContent-Description: Notification\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
            b"This is the mail system at host mx.vendor.example.\r\n\r\nI'm sorry to have to inform you that your message could not\r\n"
            b"be delivered to one or more recipients.\r\n\r\n<nobody@gone.example>: host mx.gone.example said: 550 5.1.1 User unknown\r\n\r\n"
            b"--6B1F3.1709540102/mx\r\nContent-Description: Delivery report\r\nContent-Type: message/delivery-status\r\n\r\n"
            + STATUS.encode() + b"\r\n--6B1F3.1709540102/mx\r\nContent-Description: Undelivered Message\r\n"
            b"Content-Type: message/rfc822\r\n\r\n" + returned + b"\r\n--6B1F3.1709540102/mx--\r\n")


def exchange(returned: bytes, transfer_encoding: str = "7bit") -> bytes:
    """Exchange Online: HTML-only report, delivery status, the returned mail (sometimes base64-encoded)."""
    payload = base64.encodebytes(returned).replace(b"\n", b"\r\n") if transfer_encoding == "base64" else returned
    return (b"From: Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@vendor.example>\r\n"
            b"To: anna@shop.example\r\nSubject: Undeliverable: Invoice 42\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"_000_NDR\"\r\n\r\n"
            b"--_000_NDR\r\nContent-Type: multipart/alternative; boundary=\"_001_NDR\"\r\n\r\n--_001_NDR\r\n"
            b"Content-Type: text/html; charset=us-ascii\r\n\r\n<html><body><p><b>Your message to nobody@gone.example couldn't be "
            b"delivered.</b></p><p>nobody wasn't found at gone.example.</p></body></html>\r\n--_001_NDR--\r\n\r\n"
            b"--_000_NDR\r\nContent-Type: message/delivery-status\r\n\r\n" + STATUS.encode()
            + b"\r\n--_000_NDR\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: " + transfer_encoding.encode()
            + b"\r\n\r\n" + payload + b"\r\n--_000_NDR--\r\n")


def text_parts(returned: bytes) -> bytes:
    """qmail/MDaemon style: the report and the returned mail as two text/plain parts of a multipart/mixed."""
    return (b"From: MAILER-DAEMON@mail.vendor.example\r\nTo: anna@shop.example\r\nSubject: failure notice\r\n"
            b"Content-Type: multipart/mixed; boundary=\"qmail-bounce\"\r\n\r\n--qmail-bounce\r\nContent-Type: text/plain\r\n\r\n"
            b"Hi. This is the qmail-send program at mail.vendor.example.\r\nI'm afraid I wasn't able to deliver your message "
            b"to the following addresses.\r\n\r\n<nobody@gone.example>:\r\n550 5.1.1 mailbox unavailable\r\n\r\n"
            b"--qmail-bounce\r\nContent-Type: text/plain; charset=us-ascii\r\nContent-Description: Returned message\r\n\r\n"
            b"Return-Path: <anna@shop.example>\r\nReceived: from shop.example by mail.vendor.example; Mon, 4 Mar 2024 09:15:01\r\n"
            + returned + b"\r\n--qmail-bounce--\r\n")


def generic_name(returned: bytes) -> bytes:
    """Lotus Domino / some Exchange relays: the returned mail under a generic attachment name."""
    return (b"From: Postmaster <postmaster@vendor.example>\r\nTo: anna@shop.example\r\nSubject: DELIVERY FAILURE: User nobody\r\n"
            b"Content-Type: multipart/mixed; boundary=\"domino\"\r\n\r\n--domino\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
            b"Your message\r\n\r\n  Subject: Invoice 42\r\n\r\nwas not delivered to:\r\n\r\n  nobody@gone.example\r\n\r\n"
            b"because:\r\n\r\n  550 5.1.1 User nobody (nobody@gone.example) not listed in Domino Directory\r\n\r\n--domino\r\n"
            b"Content-Type: message/rfc822; name=\"ATT00001.eml\"\r\nContent-Disposition: attachment; filename=\"ATT00001.eml\"\r\n\r\n"
            + returned + b"\r\n--domino--\r\n")


REPORTS = [("postfix", postfix), ("exchange", exchange), ("exchange base64", lambda r: exchange(r, "base64")),
           ("qmail text parts", text_parts), ("domino generic name", generic_name)]


@pytest.mark.parametrize("build", [r[1] for r in REPORTS], ids=[r[0] for r in REPORTS])
def test_report_text_and_returned_mail_named_after_its_subject(build) -> None:  # type: ignore[no-untyped-def]
    parsed = parse_message(build(_returned()))
    assert parsed.kind == "bounce"
    assert parsed.bounce is not None
    assert parsed.bounce.recipient == "nobody@gone.example"
    assert parsed.bounce.status == "5.1.1"
    assert parsed.bounce.original_message_id == "<orig-42@shop.example>"
    returned = [a for a in parsed.attachments if a.content_type == "message/rfc822"]
    assert [a.filename for a in returned] == ["Invoice 42.eml"]
    assert returned[0].content is not None and b"Please pay invoice 42" in returned[0].content
    assert "Please pay invoice 42" not in parsed.text
    assert "nobody" in parsed.text


@pytest.mark.parametrize(("subject", "name"), [
    ("=?utf-8?q?Rechnung_f=C3=BCr_M=C3=A4rz?=", "Rechnung für März.eml"),
    ("Invoice 12/2024: final", "Invoice 12_2024_ final.eml"),
    ("", "message.eml"),
    (f"=?koi8-r?b?{base64.b64encode('Поставка'.encode('koi8-r')).decode()}?=", "Поставка.eml"),
])
def test_returned_mail_names(subject: str, name: str) -> None:
    parsed = parse_message(postfix(_returned(subject)))
    assert [a.filename for a in parsed.attachments if a.content_type == "message/rfc822"] == [name]


@pytest.mark.parametrize(("subject", "codec"), [("Счёт на оплату", "cp1251"), ("请付款", "gbk"), ("請求書", "shift_jis")])
def test_returned_mail_with_a_raw_legacy_subject(subject: str, codec: str) -> None:
    returned = _returned("SUBJECT").replace(b"SUBJECT", subject.encode(codec)).replace(b"charset=utf-8", codec.encode().join(
        (b"charset=", b"")))
    parsed = parse_message(postfix(returned))
    assert [a.filename for a in parsed.attachments if a.content_type == "message/rfc822"] == [f"{subject}.eml"]


def test_report_in_a_legacy_charset() -> None:
    """A Russian hosting's Exim: the human-readable part in KOI8-R, labelled."""
    text = "Это сообщение создано автоматически. Письмо не доставлено адресату nobody@gone.example."
    raw = postfix(_returned()).replace(
        b"Content-Type: text/plain; charset=us-ascii\r\n\r\nThis is the mail system",
        b"Content-Type: text/plain; charset=koi8-r\r\n\r\n" + text.encode("koi8-r") + b"\r\nThis is the mail system")
    parsed = parse_message(raw)
    assert text in parsed.text
    assert parsed.kind == "bounce"

"""Attachment names: attached mail after its subject, inline images after Content-Location, one name once."""

from __future__ import annotations

import base64

import pytest

from parsers import parse_message

INNER = (b"From: Anna Berg <anna@shop.example>\r\nTo: support@desk.example\r\nSubject: SUBJECT\r\n"
         b"Message-ID: <inner@shop.example>\r\n\r\nThe terminal is broken.\r\n")


def _mixed(*parts: bytes, text: bytes = b"See attached.") -> bytes:
    body = b"".join(b"--XX\r\n" + part + b"\r\n" for part in parts)
    return (b"From: Bo Lind <bo@desk.example>\r\nTo: partner@fixit.example\r\nSubject: Fwd: case\r\n"
            b"Date: Mon, 04 Mar 2024 09:15:00 +0100\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n"
            b"--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text + b"\r\n" + body + b"--XX--\r\n")


def _attached(subject: bytes, headers: bytes = b"", transfer: str = "") -> bytes:
    inner = INNER.replace(b"SUBJECT", subject)
    if transfer == "base64":
        inner = base64.encodebytes(inner).replace(b"\n", b"\r\n")
        headers += b"Content-Transfer-Encoding: base64\r\n"
    return b"Content-Type: message/rfc822\r\n" + headers + b"\r\n" + inner


@pytest.mark.parametrize(("part", "name"), [
    (_attached(b"Terminal broken"), "Terminal broken.eml"),
    (_attached(b"=?utf-8?b?S2Fzc2UgZGVmZWt0IOKAkyBGaWxpYWxlIE3DvG5jaGVu?="), "Kasse defekt – Filiale München.eml"),
    (_attached("Касса не работает".encode("koi8-r"), b"", ""), "Касса не работает.eml"),
    (_attached(b"RE: Order 12/2024 <urgent>"), "RE_ Order 12_2024 _urgent.eml"),
    (_attached(b""), "message.eml"),
    (_attached(b"Terminal broken", b"Content-Disposition: attachment; filename=\"ATT00001.eml\"\r\n"), "Terminal broken.eml"),
    (_attached(b"Terminal broken", b"Content-Disposition: attachment; filename=\"case 4711.eml\"\r\n"), "case 4711.eml"),
    (_attached(b"Terminal broken", transfer="base64"), "Terminal broken.eml"),
], ids=["plain", "encoded word", "raw koi8-r", "path characters", "no subject", "generic name", "own name", "base64"])
def test_attached_mail_is_named_after_its_subject(part: bytes, name: str) -> None:
    parsed = parse_message(_mixed(part))
    assert [a.filename for a in parsed.attachments] == [name]
    assert parsed.forward is not None and parsed.forward.original.text == "The terminal is broken."


def _related(*images: bytes) -> bytes:
    parts = b"".join(b"--R\r\n" + image + b"\r\n\r\niVBORw0KGgo=\r\n" for image in images)
    return (b"From: a@shop.example\r\nTo: support@desk.example\r\nSubject: screenshot\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/related; boundary=R\r\n\r\n--R\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
            b"<p>See <img src=\"cid:img1\"></p>\r\n" + parts + b"--R--\r\n")


@pytest.mark.parametrize(("location", "content_type", "name"), [
    (b"https://cdn.shop.example/mail/logo%20big.png?v=3", b"image/png", "logo big.png"),
    (b"file:///C:/Users/anna/AppData/Local/Temp/image001.png", b"image/png", "image001.png"),
    (b"image001.jpg", b"image/jpeg", "image001.jpg"),
    (b"cid-screenshot", b"image/png", "cid-screenshot.png"),
], ids=["url", "windows path", "bare name", "no extension"])
def test_inline_image_named_from_content_location(location: bytes, content_type: bytes, name: str) -> None:
    raw = _related(b"Content-Type: " + content_type + b"\r\nContent-ID: <img1>\r\nContent-Transfer-Encoding: base64\r\n"
                   b"Content-Location: " + location)
    parsed = parse_message(raw)
    assert [(a.filename, a.inline, a.content_id) for a in parsed.attachments] == [(name, True, "img1")]


def test_inline_images_with_one_name_are_told_apart() -> None:
    image = b"Content-Type: image/png; name=\"image001.png\"\r\nContent-Transfer-Encoding: base64\r\nContent-ID: <%d>"
    parsed = parse_message(_related(image % 1, image % 2, image % 3))
    assert [a.filename for a in parsed.attachments] == ["image001.png", "image001 (2).png", "image001 (3).png"]


@pytest.mark.parametrize(("names", "expected"), [
    (["report.pdf", "report.pdf"], ["report.pdf", "report (2).pdf"]),
    (["Report.PDF", "report.pdf"], ["Report.PDF", "report (2).pdf"]),
    (["README", "README"], ["README", "README (2)"]),
    (["a.pdf", "a (2).pdf", "a.pdf"], ["a.pdf", "a (2).pdf", "a (3).pdf"]),
    ([".profile", ".profile"], [".profile", ".profile (2)"]),
])
def test_attachments_with_one_name_are_disambiguated(names: list[str], expected: list[str]) -> None:
    parts = [f"Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"{n}\"\r\n"
             f"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=".encode() for n in names]
    parsed = parse_message(_mixed(*parts))
    assert [a.filename for a in parsed.attachments] == expected


def test_rfc2231_filename_with_a_wrong_latin_label_is_recovered() -> None:
    quoted = "".join(f"%{byte:02X}" for byte in "Счёт на оплату.pdf".encode("cp1251"))
    part = (f"Content-Type: application/pdf\r\nContent-Disposition: attachment; filename*=iso-8859-1''{quoted}\r\n"
            f"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=").encode()
    parsed = parse_message(_mixed(part))
    assert [a.filename for a in parsed.attachments] == ["Счёт на оплату.pdf"]
    assert any(p.startswith("filename: 8-bit text read as cp1251") for p in parsed.problems)

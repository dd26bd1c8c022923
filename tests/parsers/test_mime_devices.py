"""Scan-to-mail and fax-to-mail notifications, as multifunction printers and fax servers send them."""

from __future__ import annotations

import pytest

from parsers import parse_message

PDF = b"JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFI+PgpzdHJlYW0K\r\n"
TIFF = b"SUkqAAgAAAAQAP4ABAABAAAAAAAAAAABBAABAAAAsAYAAAEBBAABAAAA\r\n"


def _device_mail(head: bytes, body_part: bytes, file_part: bytes) -> bytes:
    return (head + b"Date: Mon, 04 Mar 2024 09:15:00 +0100\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=\"=_device_boundary\"\r\n\r\n--=_device_boundary\r\n"
            + body_part + b"\r\n--=_device_boundary\r\n" + file_part + b"\r\n--=_device_boundary--\r\n")


XEROX = _device_mail(
    b"From: Xerox WorkCentre 7845 <scanner@office.example>\r\nTo: support@desk.example\r\nSubject: Scan from a Xerox WorkCentre\r\n",
    b"Content-Type: text/plain; charset=us-ascii\r\n\r\nPlease open the attached document. It was scanned and sent to you "
    b"using a Xerox multifunction printer.\r\n\r\nAttachment File Type: PDF\r\n\r\nWorkCentre Location: 2nd floor\r\n",
    b"Content-Type: application/pdf; name=\"Scan_0001.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + PDF)
CANON_JAPANESE = _device_mail(
    b"From: Canon <scanner>\r\nTo: support@desk.example\r\nSubject: " + "スキャンデータ送信".encode("shift_jis") + b"\r\n",
    b"Content-Type: text/plain; charset=Shift_JIS\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    + "添付ファイルを確認してください。".encode("shift_jis"),
    b"Content-Type: application/octet-stream; name=\"" + "スキャン_20240304.pdf".encode("shift_jis") + b"\"\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\n" + PDF)
RICOH = _device_mail(
    b"From: RICOH MP C3004 <mfp@office.example>\r\nTo: support@desk.example\r\nSubject: Scanned Document\r\n",
    b"Content-Type: text/plain\r\n\r\n",
    b"Content-Type: application/pdf\r\nContent-Description: 20240304091500.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    + PDF)
KONICA = _device_mail(
    b"From: KM_C364e@office.example\r\nTo: support@desk.example\r\nSubject: Message from KM_C364e\r\n",
    b"Content-Type: text/plain; charset=US-ASCII\r\n\r\n",
    b"Content-Type: application/octet-stream; name=\"SKMBT_C36424030409150.pdf\"\r\n"
    b"Content-Disposition: attachment; filename=\"SKMBT_C36424030409150.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    + PDF)
KYOCERA_RUSSIAN = _device_mail(
    b"From: " + "Сканер бухгалтерии".encode("cp1251") + b" <scan@office.example>\r\nTo: support@desk.example\r\n"
    b"Subject: " + "Отсканированный документ".encode("cp1251") + b"\r\n",
    b"Content-Type: text/plain; charset=windows-1251\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    + "Документ отсканирован на устройстве TASKalfa 3252ci.".encode("cp1251"),
    b"Content-Type: application/pdf; name=\"" + "Документ_001.pdf".encode("cp1251") + b"\"\r\n"
    b"Content-Disposition: attachment; filename=\"" + "Документ_001.pdf".encode("cp1251") + b"\"\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\n" + PDF)
HP_FAX = _device_mail(
    b"From: HP Digital Fax <fax@office.example>\r\nTo: support@desk.example\r\nSubject: Fax from +49 30 1234567 (2 pages)\r\n",
    b"Content-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>You have received a 2 page fax from +49 30 1234567."
    b"</p></body></html>",
    b"Content-Type: image/tiff\r\nContent-Transfer-Encoding: base64\r\n\r\n" + TIFF)
FAX_SERVER = _device_mail(
    b"From: \"Fax Server\" <faxserver@office.example>\r\nTo: support@desk.example\r\n"
    b"Subject: Fax received from 030 1234567\r\n",
    b"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    b"Sie haben ein Fax erhalten.\r\nAbsender: 030 1234567\r\nSeiten: 2\r\nEmpfangen: 04.03.2024 09:15\r\n"
    b"Gr=FC=DFe, Ihr Faxserver",
    b"Content-Type: application/octet-stream; name=\"fax_0001.tif\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + TIFF)

DEVICES = [
    ("xerox scan", XEROX, "Scan_0001.pdf", "application/pdf", "Xerox multifunction printer"),
    ("canon scan, Shift_JIS", CANON_JAPANESE, "スキャン_20240304.pdf", "application/pdf", "添付ファイル"),
    ("ricoh scan, name in description", RICOH, "20240304091500.pdf", "application/pdf", ""),
    ("konica scan, octet-stream", KONICA, "SKMBT_C36424030409150.pdf", "application/pdf", ""),
    ("kyocera scan, cp1251", KYOCERA_RUSSIAN, "Документ_001.pdf", "application/pdf", "TASKalfa"),
    ("hp fax, html only, no name", HP_FAX, "part-1.tiff", "image/tiff", "2 page fax"),
    ("fax server, octet-stream tif", FAX_SERVER, "fax_0001.tif", "image/tiff", "Sie haben ein Fax erhalten."),
]


@pytest.mark.parametrize(("raw", "filename", "content_type", "text"), [d[1:] for d in DEVICES],
                         ids=[d[0] for d in DEVICES])
def test_device_notification(raw: bytes, filename: str, content_type: str, text: str) -> None:
    parsed = parse_message(raw)
    assert parsed.kind == "normal"
    assert parsed.sender is not None
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [(filename, content_type)]
    assert parsed.attachments[0].content and parsed.attachments[0].content.startswith((b"%PDF", b"II*"))
    assert text in parsed.text


def test_fax_server_text_in_quoted_printable_latin1() -> None:
    parsed = parse_message(FAX_SERVER)
    assert "Grüße, Ihr Faxserver" in "\n".join((parsed.text, parsed.elided))


def test_device_subjects_and_senders_in_legacy_charsets() -> None:
    canon = parse_message(CANON_JAPANESE)
    assert canon.subject == "スキャンデータ送信"
    assert canon.sender is not None and canon.sender.name.startswith("Canon")
    kyocera = parse_message(KYOCERA_RUSSIAN)
    assert kyocera.subject == "Отсканированный документ"
    assert kyocera.sender is not None and kyocera.sender.name == "Сканер бухгалтерии"

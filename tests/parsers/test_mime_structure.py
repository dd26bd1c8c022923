"""MIME structure: bodies, attachments, inline images, attached mail, limits."""

import base64
import hashlib

from parsers import ParseOptions, parse_message

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
PNG_B64 = base64.encodebytes(PNG).decode().replace("\n", "\r\n")

GMAIL_INLINE_IMAGE = f"""\
MIME-Version: 1.0\r
Date: Tue, 10 Mar 2026 11:20:31 +0100\r
Message-ID: <CAF=abc123@mail.gmail.com>\r
Subject: =?UTF-8?Q?Kassenst=C3=B6rung_Filiale_12?=\r
From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <Juergen.Mueller@Gmail.com>\r
To: support@vendor.example\r
Content-Type: multipart/related; boundary="000000000000rel"\r
\r
--000000000000rel\r
Content-Type: multipart/alternative; boundary="000000000000alt"\r
\r
--000000000000alt\r
Content-Type: text/plain; charset="UTF-8"\r
Content-Transfer-Encoding: quoted-printable\r
\r
Die Kasse zeigt diesen Fehler:\r
[image: fehler.png]\r
Gr=C3=BC=C3=9Fe\r
\r
--000000000000alt\r
Content-Type: text/html; charset="UTF-8"\r
Content-Transfer-Encoding: quoted-printable\r
\r
<div dir=3D"ltr">Die Kasse zeigt diesen Fehler:<br><img src=3D"cid:ii_m1x2y3" alt=3D"fehler.png"><br>Gr=C3=BC=C3=9Fe</div>\r
\r
--000000000000alt--\r
--000000000000rel\r
Content-Type: image/png; name="fehler.png"\r
Content-Disposition: inline; filename="fehler.png"\r
Content-Transfer-Encoding: base64\r
Content-ID: <ii_m1x2y3>\r
X-Attachment-Id: ii_m1x2y3\r
\r
{PNG_B64}\r
--000000000000rel--\r
""".encode()


def test_gmail_related_alternative_with_inline_image() -> None:
    parsed = parse_message(GMAIL_INLINE_IMAGE)
    assert parsed.subject == "Kassenstörung Filiale 12"
    assert parsed.sender is not None and parsed.sender.name == "Jürgen Müller"
    assert parsed.sender.email == "juergen.mueller@gmail.com"
    assert parsed.text.startswith("Die Kasse zeigt diesen Fehler:")
    assert parsed.html is not None and "cid:ii_m1x2y3" in parsed.html
    [image] = parsed.attachments
    assert (image.filename, image.content_type, image.inline, image.content_id) == ("fehler.png", "image/png", True, "ii_m1x2y3")
    assert image.size == len(PNG) and image.sha256 == hashlib.sha256(PNG).hexdigest()
    assert image.content == PNG and not image.truncated


def _mixed(part_headers: str, payload: str) -> bytes:
    return (
        "From: a@example.com\r\nTo: b@example.com\r\nSubject: files\r\nDate: Tue, 10 Mar 2026 11:20:31 +0000\r\n"
        "Message-ID: <m@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=BB\r\n\r\n"
        "--BB\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nsee attached\r\n"
        f"--BB\r\n{part_headers}\r\n\r\n{payload}\r\n--BB--\r\n"
    ).encode()


def test_rfc2231_filename_with_continuations_and_charset() -> None:
    headers = (
        "Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
        "Content-Disposition: attachment;\r\n filename*0*=UTF-8''%D0%90%D0%BA%D1%82%20;\r\n"
        " filename*1*=%E2%84%96%2012;\r\n filename*2=.pdf"
    )
    [attachment] = parse_message(_mixed(headers, "JVBERi0xLjQK")).attachments
    assert attachment.filename == "Акт № 12.pdf"
    assert attachment.content == b"%PDF-1.4\n"


def test_encoded_word_filename_and_name_fallback() -> None:
    word = base64.b64encode("тест.txt".encode("koi8-r")).decode()
    outlook = f'Content-Type: application/octet-stream;\r\n name="=?koi8-r?B?{word}?="\r\nContent-Transfer-Encoding: base64'
    [attachment] = parse_message(_mixed(outlook, "aGk=")).attachments
    assert attachment.filename == "тест.txt"


def test_attachment_without_any_name_gets_one() -> None:
    [attachment] = parse_message(_mixed("Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64", "aGk=")).attachments
    assert attachment.filename.endswith(".pdf")
    assert not attachment.inline


def test_path_in_filename_is_dropped() -> None:
    headers = 'Content-Type: text/plain\r\nContent-Disposition: attachment; filename="C:\\\\Users\\\\x\\\\..\\\\report.txt"'
    [attachment] = parse_message(_mixed(headers, "data")).attachments
    assert attachment.filename == "report.txt"


def test_oversized_part_keeps_size_and_hash_but_not_content() -> None:
    data = bytes(range(256)) * 40
    payload = base64.encodebytes(data).decode().replace("\n", "\r\n")
    headers = "Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=dump.bin\r\nContent-Transfer-Encoding: base64"
    parsed = parse_message(_mixed(headers, payload), ParseOptions(max_part_bytes=1000))
    [attachment] = parsed.attachments
    assert attachment.content is None and attachment.truncated
    assert attachment.size == len(data) and attachment.sha256 == hashlib.sha256(data).hexdigest()
    assert any("dump.bin" in p and "limit" in p for p in parsed.problems)


def test_html_only_mail_gives_text_and_keeps_html() -> None:
    raw = (
        b"From: shop@example.com\r\nTo: support@vendor.example\r\nSubject: html\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/html; charset=windows-1252\r\n\r\n"
        b"<html><head><style>p{color:red}</style></head><body><p>Gr\xfc\xdfe,</p><p>die Kasse ist <b>kaputt</b>.</p></body></html>\r\n"
    )
    parsed = parse_message(raw)
    assert "Grüße," in parsed.text and "die Kasse ist kaputt." in parsed.text
    assert "color" not in parsed.text
    assert parsed.html is not None and "<b>kaputt</b>" in parsed.html


def test_plain_part_wins_over_html_alternative() -> None:
    parsed = parse_message(GMAIL_INLINE_IMAGE)
    assert "[image: fehler.png]" in parsed.text


FORWARD_AS_ATTACHMENT = b"""\
From: Dispatcher <dispatch@vendor.example>\r
To: service@partner.example\r
Subject: Fw: Kassa ne rabotaet\r
Date: Wed, 11 Mar 2026 09:00:00 +0300\r
Message-ID: <fw-1@vendor.example>\r
MIME-Version: 1.0\r
Content-Type: multipart/mixed; boundary="outer"\r
\r
--outer\r
Content-Type: text/plain; charset=utf-8\r
\r
Please handle this customer today.\r
--outer\r
Content-Type: message/rfc822\r
Content-Disposition: attachment\r
\r
From: =?utf-8?B?0JjQstCw0L0=?= <ivan@shop.example>\r
To: support@vendor.example\r
Subject: =?utf-8?B?0JrQsNGB0YHQsCDQvdC1INGA0LDQsdC+0YLQsNC10YI=?=\r
Date: Tue, 10 Mar 2026 18:30:00 +0300\r
Message-ID: <orig-42@shop.example>\r
Content-Type: text/plain; charset=utf-8\r
\r
The register in shop 12 shows error E42.\r
--outer--\r
"""


def test_attached_message_is_an_attachment_and_a_forward() -> None:
    parsed = parse_message(FORWARD_AS_ATTACHMENT)
    [attachment] = parsed.attachments
    assert attachment.content_type == "message/rfc822"
    assert attachment.filename == "Касса не работает.eml"
    assert parsed.forward is not None
    assert parsed.forward.note == "Please handle this customer today."
    original = parsed.forward.original
    assert original.sender is not None and (original.sender.name, original.sender.email) == ("Иван", "ivan@shop.example")
    assert original.subject == "Касса не работает"
    assert original.message_id == "<orig-42@shop.example>"
    assert original.date is not None and original.date.isoformat() == "2026-03-10T15:30:00+00:00"
    assert "error E42" in original.text


def test_nested_rfc822_inside_rfc822() -> None:
    inner_twice = FORWARD_AS_ATTACHMENT.replace(b"--outer", b"--outer2").replace(b'"outer"', b'"outer2"')
    raw = (
        b"From: boss@vendor.example\r\nTo: x@example.com\r\nSubject: FYI\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=top\r\n\r\n--top\r\nContent-Type: text/plain\r\n\r\nFYI\r\n"
        b"--top\r\nContent-Type: message/rfc822\r\n\r\n" + inner_twice + b"\r\n--top--\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.forward is not None and parsed.forward.original.subject == "Fw: Kassa ne rabotaet"
    assert "Please handle this customer today." in parsed.forward.original.text
    assert [a.content_type for a in parsed.attachments] == ["message/rfc822"]


def test_uuencoded_file_in_plain_body_is_split_out() -> None:
    import binascii

    data = b"\x89PNG fake image bytes " * 10
    lines = [binascii.b2a_uu(data[i:i + 45]).decode().rstrip("\n") for i in range(0, len(data), 45)]
    body = "Picture below.\r\n\r\nbegin 644 photo.png\r\n" + "\r\n".join(lines) + "\r\n`\r\nend\r\n\r\nThanks\r\n"
    raw = ("From: notes@example.com\r\nTo: s@example.com\r\nSubject: uu\r\n\r\n" + body).encode()
    parsed = parse_message(raw)
    [attachment] = parsed.attachments
    assert attachment.filename == "photo.png" and attachment.content == data
    assert "begin 644" not in parsed.text and "Picture below." in parsed.text


def test_deep_nesting_is_capped_with_a_problem() -> None:
    depth = 60
    head = b"From: a@example.com\r\nSubject: deep\r\nMIME-Version: 1.0\r\n"
    body = b""
    for level in range(depth):
        body += b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (level, level)
    body += b"Content-Type: text/plain\r\n\r\nbottom\r\n"
    for level in reversed(range(depth)):
        body += b"--b%d--\r\n" % level
    parsed = parse_message(head + body)
    assert any("deeper than" in p for p in parsed.problems)
    assert parsed.subject == "deep"


def test_fifty_megabytes_attachment_is_streamed() -> None:
    data = bytes(range(256)) * (12 * 1024 * 1024 // 256)  # 12 MiB keeps the test quick
    payload = base64.encodebytes(data).replace(b"\n", b"\r\n")
    raw = (
        b"From: a@example.com\r\nSubject: big\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n"
        b"--XX\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XX\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Disposition: attachment; filename=big.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + payload + b"--XX--\r\n"
    )
    parsed = parse_message(raw, ParseOptions(max_part_bytes=64 * 1024 * 1024))
    [attachment] = parsed.attachments
    assert attachment.content == data and attachment.sha256 == hashlib.sha256(data).hexdigest()
    assert parsed.text == "hello"


def test_headers_dict_and_ids() -> None:
    raw = (
        b"From: a@example.com\r\nTo: b@example.com\r\nSubject: =?utf-8?q?multi?=\r\n =?utf-8?q?_line?=\r\n"
        b"Message-ID: <id-1@example.com>\r\nIn-Reply-To: <id-0@example.com>\r\n"
        b"References: <r1@example.com>\r\n <id-0@example.com>\r\nX-Custom: one\r\nX-CUSTOM: two\r\n\r\nbody\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.subject == "multi line"
    assert parsed.message_id == "<id-1@example.com>" and parsed.in_reply_to == "<id-0@example.com>"
    assert parsed.references == ("<r1@example.com>", "<id-0@example.com>")
    assert parsed.headers["x-custom"] == ["one", "two"]
    assert parsed.header("Subject") == "multi line"
    assert parsed.date is None and "no Date header" in parsed.problems


def test_an_internal_failure_still_returns_the_headers_and_a_problem(monkeypatch) -> None:
    import parsers.parse

    def broken_walk(*args, **kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(parsers.parse, "walk", broken_walk)
    monkeypatch.setattr(parsers.parse, "walk_text", broken_walk)  # the plain single-part reading
    parsed = parse_message(b"From: A <a@b.example>\r\nSubject: =?utf-8?q?hi?=\r\nMessage-ID: <x@y>\r\n\r\nbody")
    assert (parsed.subject, parsed.message_id) == ("hi", "<x@y>")
    assert parsed.sender is not None and parsed.sender.email == "a@b.example"
    assert parsed.problems == ("parser failure: RuntimeError: simulated bug",)


def test_attached_mail_with_a_blank_line_inside_its_header_is_repaired() -> None:
    raw = FORWARD_AS_ATTACHMENT.replace(
        b"Message-ID: <orig-42@shop.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
        b"Message-ID: <orig-42@shop.example>\r\n\r\nContent-Type: multipart/alternative; boundary=in\r\n\r\n"
        b"--in\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
    ).replace(b"error E42.\r\n--outer--", b"error E42.\r\n--in--\r\n--outer--")
    parsed = parse_message(raw)
    assert parsed.forward is not None
    assert parsed.forward.original.text == "The register in shop 12 shows error E42."


def test_big_unencoded_attachment_matches_what_the_mime_rules_say() -> None:
    body = (b"row" + b"0123456789" * 7 + b"\r\n") * 40_000  # about 3 MB of plain alphanumeric lines
    raw = (
        b"From: a@example.com\r\nSubject: export\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=Q\r\n\r\n"
        b"--Q\r\nContent-Type: text/plain\r\n\r\nexport attached\r\n--Q\r\nContent-Type: text/csv\r\n"
        b"Content-Disposition: attachment; filename=export.csv\r\n\r\n" + body + b"--Q--\r\n"
    )
    [attachment] = parse_message(raw).attachments
    assert attachment.content == body[:-2]  # the last CRLF belongs to the boundary
    assert attachment.sha256 == hashlib.sha256(body[:-2]).hexdigest()


def test_big_quoted_printable_attachment_is_decoded() -> None:
    body = (b"Caf=C3=A9" * 8 + b"=\r\n") * 40_000  # soft line breaks only: one long decoded line
    raw = (
        b"From: a@example.com\r\nSubject: notes\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=Q\r\n\r\n"
        b"--Q\r\nContent-Type: text/plain\r\n\r\nnotes attached\r\n--Q\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\nContent-Disposition: attachment; filename=notes.txt\r\n\r\n"
        + body + b"--Q--\r\n"
    )
    [attachment] = parse_message(raw).attachments
    assert attachment.content == "Café".encode() * 8 * 40_000


def test_json_shape_of_a_parsed_message() -> None:
    shape = parse_message(FORWARD_AS_ATTACHMENT).to_json()
    assert shape["from"] == {"name": "Dispatcher", "email": "dispatch@vendor.example"}
    assert shape["to"] == ["service@partner.example"] and shape["kind"] == "normal"
    assert shape["date"] == "2026-03-11T06:00:00Z"
    assert shape["forward"]["original"]["message_id"] == "<orig-42@shop.example>"
    assert shape["attachments"][0]["content_type"] == "message/rfc822"


def test_many_comment_lines_in_an_attachment_are_not_mistaken_for_boundaries() -> None:
    dump = b"-- comment line\r\nSELECT 1;\r\n" * 6000
    raw = (
        b"From: a@example.com\r\nSubject: dump\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
        b"--B\r\nContent-Type: text/plain\r\n\r\nsee dump\r\n--B\r\nContent-Type: text/plain\r\n"
        b"Content-Disposition: attachment; filename=dump.sql\r\n\r\n" + dump + b"\r\n--B--\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.attachments[0].content == dump
    assert not any("boundary lines" in p for p in parsed.problems)

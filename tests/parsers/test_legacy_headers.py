"""Raw 8-bit headers (no RFC 2047) in legacy charsets: From names, Subjects, attachment names."""

from __future__ import annotations

import pytest

from parsers import parse_message
from tests.parsers.legacy_mail import LOCALES, Locale, legacy_mail

IDS = list(LOCALES)


def _assert_read(raw: bytes, locale: Locale) -> None:
    parsed = parse_message(raw)
    assert parsed.sender is not None
    assert (parsed.sender.name, parsed.sender.email) == (locale.name, parsed.sender.email)
    assert parsed.subject == locale.subject
    assert [a.filename for a in parsed.attachments] == [locale.filename]
    assert parsed.headers["subject"] == [locale.subject]
    assert "\ufffd" not in parsed.text


@pytest.mark.parametrize("key", IDS)
def test_headers_read_in_the_charset_the_body_declares(key: str) -> None:
    locale = LOCALES[key]
    parsed = parse_message(legacy_mail(locale))
    _assert_read(legacy_mail(locale), locale)
    assert parsed.text == locale.body


@pytest.mark.parametrize("key", IDS)
def test_headers_read_in_the_charset_of_an_unlabelled_body(key: str) -> None:
    locale = LOCALES[key]
    _assert_read(legacy_mail(locale, label=False), locale)
    assert parse_message(legacy_mail(locale, label=False)).text == locale.body


@pytest.mark.parametrize("key", IDS)
def test_headers_alone_read_by_their_own_text(key: str) -> None:
    """Nothing declared and an ASCII body: the headers' 8-bit text together, and the sender's country."""
    locale = LOCALES[key]
    _assert_read(legacy_mail(locale, label=False, body_in_charset=False), locale)


@pytest.mark.parametrize("key", IDS)
def test_recovery_is_reported(key: str) -> None:
    locale = LOCALES[key]
    parsed = parse_message(legacy_mail(locale))
    recovered = [p for p in parsed.problems if p.startswith(("header:", "filename:"))]
    assert recovered, parsed.problems
    assert all("read as" in p or "guessed" in p for p in recovered)


@pytest.mark.parametrize("key", IDS)
def test_raw_header_next_to_a_utf8_body(key: str) -> None:
    """A newer client's UTF-8 body under an old gateway's raw legacy header: the header still reads right."""
    locale = LOCALES[key]
    raw = (b"From: " + locale.name.encode(locale.codec) + f" <a@{locale.domain}>\r\n".encode()
           + b"Subject: " + locale.subject.encode(locale.codec) + b"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
           + locale.body.encode("utf-8") + b"\r\n")
    parsed = parse_message(raw)
    assert parsed.subject == locale.subject
    assert parsed.sender is not None and parsed.sender.name == locale.name
    assert parsed.text == locale.body


def test_utf8_raw_headers_are_not_recovered() -> None:
    """RFC 6532 allows UTF-8 in headers: read as it is, nothing reported."""
    raw = "From: Jürgen Groß <j@example.de>\r\nSubject: Grüße – 你好\r\n\r\nHi\r\n".encode()
    parsed = parse_message(raw)
    assert parsed.subject == "Grüße – 你好"
    assert parsed.sender is not None and parsed.sender.name == "Jürgen Groß"
    assert not parsed.problems or not any("read as" in p for p in parsed.problems)


@pytest.mark.parametrize("subject", ["x²+y³ = z", "±5 °C", "✓ erledigt → weiter", "😀 🎉", "été", "Ελένη", "김철수 님",
                                     "iPhone用ケース", "№ 15", "हिन्दी"])
def test_short_raw_utf8_headers_stay_utf8(subject: str) -> None:
    """Short UTF-8 is only doubted when it holds what no UTF-8 writer writes (C1 controls, loose marks)."""
    parsed = parse_message(f"From: a@b.example\r\nSubject: {subject}\r\n\r\nx\r\n".encode())
    assert parsed.subject == subject
    assert not any("read as" in p for p in parsed.problems)


def test_encoded_word_with_a_wrong_latin_label_is_recovered() -> None:
    word = "=?iso-8859-1?Q?" + "".join(f"={b:02X}" for b in "Счёт на оплату".encode("cp1251")).replace("=20", "_") + "?="
    parsed = parse_message(f"From: a@b.example\r\nSubject: {word}\r\n\r\nx\r\n".encode())
    assert parsed.subject == "Счёт на оплату"
    assert any("encoded word: 8-bit text read as cp1251" in p for p in parsed.problems)


@pytest.mark.parametrize("body_label", [b"ISO-2022-JP", b"us-ascii", None])
def test_raw_iso_2022_jp_headers(body_label: bytes | None) -> None:
    """Old Japanese mailers wrote 7-bit ISO-2022-JP straight into the header, escapes and all."""
    content_type = b"Content-Type: text/plain; charset=" + body_label + b"\r\n" if body_label else b""
    raw = (b"From: " + "山田太郎".encode("iso2022_jp") + b" <yamada@corp.jp>\r\nSubject: "
           + "請求書の件について".encode("iso2022_jp") + b"\r\nX-Mailer: Datula Version 1.51.09 for Windows\r\n"
           + content_type + b"\r\n" + "よろしくお願いします。".encode("iso2022_jp") + b"\r\n")
    parsed = parse_message(raw)
    assert parsed.subject == "請求書の件について"
    assert parsed.sender is not None and parsed.sender.name == "山田太郎"
    assert parsed.text == "よろしくお願いします。"

"""Body charsets: labelled, mislabelled and unlabelled, as real clients send them."""

import base64

import pytest

from parsers import parse_message


def _mail(body: bytes, content_type: str | None, cte: str = "8bit") -> bytes:
    head = (
        b"From: Customer <customer@shop.example>\r\n"
        b"To: support@vendor.example\r\n"
        b"Subject: Kassa\r\n"
        b"Date: Mon, 09 Mar 2026 10:00:00 +0300\r\n"
        b"Message-ID: <c1@shop.example>\r\n"
        b"MIME-Version: 1.0\r\n"
    )
    if content_type is not None:
        head += b"Content-Type: " + content_type.encode() + b"\r\n"
    head += b"Content-Transfer-Encoding: " + cte.encode() + b"\r\n"
    return head + b"\r\n" + body + b"\r\n"


RUSSIAN = "Здравствуйте! Не работает кассовый аппарат в магазине."
ARABIC = "مرحبا، لدينا مشكلة في جهاز الكاشير في المتجر الرئيسي"


@pytest.mark.parametrize(
    ("text", "codec", "label"),
    [
        (RUSSIAN, "cp1251", "windows-1251"),
        (RUSSIAN, "koi8-r", "koi8-r"),
        (ARABIC, "cp1256", "windows-1256"),
        ("Zażółć gęślą jaźń, proszę o kontakt.", "iso-8859-2", "iso-8859-2"),
        ("Grüße aus München, 15 € für die Straße", "iso-8859-15", "ISO-8859-15"),
        ("Привет из Киева", "iso-8859-5", "iso-8859-5"),
        ("Καλημέρα σας", "iso-8859-7", "iso-8859-7"),
        ("こんにちは、プリンターが壊れました", "iso-2022-jp", "ISO-2022-JP"),
        ("收银机坏了，请派人来", "gb18030", "gb18030"),
    ],
)
def test_labelled_charsets_decode_cleanly(text: str, codec: str, label: str) -> None:
    parsed = parse_message(_mail(text.encode(codec), f'text/plain; charset="{label}"'))
    assert parsed.text == text
    assert not [p for p in parsed.problems if "charset" in p]


def test_gb2312_label_on_gb18030_text() -> None:
    text = "收银机坏了 ㊣ 𠀀 请派人来"  # the last characters exist only in GB18030
    parsed = parse_message(_mail(text.encode("gb18030"), "text/plain; charset=gb2312"))
    assert parsed.text == text


@pytest.mark.parametrize(("text", "codec"), [(RUSSIAN, "cp1251"), (RUSSIAN, "koi8-r"), (ARABIC, "cp1256")])
def test_unlabelled_8bit_text_is_guessed_and_reported(text: str, codec: str) -> None:
    parsed = parse_message(_mail(text.encode(codec), None))
    assert parsed.text == text
    assert any("guessed" in p for p in parsed.problems)


def test_unlabelled_chinese_is_guessed() -> None:
    text = "您好，收银机坏了，请尽快派技术人员来店里维修，谢谢。"
    parsed = parse_message(_mail(text.encode("gb18030"), "text/plain"))
    assert parsed.text == text


def test_unknown_charset_name_does_not_crash() -> None:
    parsed = parse_message(_mail("Håvard".encode("latin-1"), "text/plain; charset=x-martian-8"))
    assert parsed.text == "Håvard"
    assert any("x-martian-8" in p for p in parsed.problems)


def test_utf8_body_labelled_as_cp1251() -> None:
    parsed = parse_message(_mail(RUSSIAN.encode("utf-8"), "text/plain; charset=windows-1251"))
    assert parsed.text == RUSSIAN
    assert any("UTF-8" in p for p in parsed.problems)


def test_quoted_printable_and_base64_bodies() -> None:
    qp = parse_message(_mail(b"Gr=FC=DFe, die Kasse ist kaputt.", "text/plain; charset=iso-8859-1", "quoted-printable"))
    b64 = parse_message(_mail(b"0J/RgNC40LLQtdGC", "text/plain; charset=utf-8", "base64"))
    assert qp.text == "Grüße, die Kasse ist kaputt."
    assert b64.text == "Привет"


@pytest.mark.parametrize("codec", ["utf-16", "utf-7", "cp866", "mac-cyrillic", "big5", "shift_jis", "euc-kr", "cp1255"])
def test_other_python_codecs_by_label(codec: str) -> None:
    texts = {"big5": "收銀機壞了", "shift_jis": "プリンター", "euc-kr": "프린터 고장", "cp1255": "שלום"}
    text = texts.get(codec, RUSSIAN)
    body = base64.encodebytes(text.encode(codec)).replace(b"\n", b"\r\n")
    parsed = parse_message(_mail(body, f"text/plain; charset={codec}", "base64"))
    assert parsed.text == text


@pytest.mark.parametrize(
    ("text", "codec"),
    [("ТЕСТ", "koi8-r"), ("тест тест", "cp1251"), ("Касса не работает", "koi8-r"), ("Касса не работает", "cp1251"),
     ("ООО Ромашка ИНН 7701 КПП 7701", "koi8-r")],
)
def test_short_unlabelled_russian_is_read_by_letter_frequency(text: str, codec: str) -> None:
    parsed = parse_message(_mail(text.encode(codec), None))
    assert parsed.text == text

"""Forwards from localized Outlook and from Russian webmail, each as its client writes the header block."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from parsers import parse_message
from parsers.forward import detect_forward
from parsers.message import Address

NOTE = "Please take over this one."
BODY = "The card terminal in the shop does not print receipts.\n\nAnna"
ANNA = Address(name="Anna Berg", email="anna@example.com")
WHEN = datetime(2024, 3, 4, 9, 15, tzinfo=timezone.utc)

# (language, subject, separator, from, sent, to, subject field, sent value)
OUTLOOK = [
    ("tr", "İLT: Terminal", "-----Özgün İleti-----", "Kimden", "Gönderildi", "Kime", "Konu",
     "4 Mart 2024 Pazartesi 09:15"),
    ("cs", "FW: Terminal", "-----Původní zpráva-----", "Od", "Odesláno", "Komu", "Předmět",
     "pondělí 4. března 2024 9:15"),
    ("hu", "TOVÁBB: Terminal", "-----Eredeti üzenet-----", "Feladó", "Küldve", "Címzett", "Tárgy",
     "2024. március 4. 9:15"),
    ("el", "ΠΡΘ: Terminal", "-----Αρχικό μήνυμα-----", "Από", "Στάλθηκε", "Προς", "Θέμα",
     "Δευτέρα, 4 Μαρτίου 2024 9:15 πμ"),
    ("sv", "VB: Terminal", "-----Ursprungligt meddelande-----", "Från", "Skickat", "Till", "Ämne",
     "den 4 mars 2024 09:15"),
    ("da", "VS: Terminal", "-----Oprindelig meddelelse-----", "Fra", "Sendt", "Til", "Emne",
     "4. marts 2024 09:15"),
    ("no", "VS: Terminal", "-----Opprinnelig melding-----", "Fra", "Sendt", "Til", "Emne",
     "mandag 4. mars 2024 09:15"),
    ("fi", "VL: Terminal", "-----Alkuperäinen viesti-----", "Lähettäjä", "Lähetetty", "Vastaanottaja", "Aihe",
     "4. maaliskuuta 2024 9.15"),
    ("ro", "FW: Terminal", "-----Mesaj original-----", "De la", "Trimis", "Către", "Subiect",
     "luni, 4 martie 2024 09:15"),
    ("uk", "Пересл: Terminal", "-----Оригінальне повідомлення-----", "Від", "Надіслано", "Кому", "Тема",
     "4 березня 2024 р. 9:15"),
]


def _outlook(separator: str, sender: str, sent: str, to: str, subject: str, sent_value: str) -> str:
    return (f"{NOTE}\n\n{separator}\n{sender}: Anna Berg [mailto:anna@example.com]\n{sent}: {sent_value}\n"
            f"{to}: support@example.com\n{subject}: Terminal\n\n{BODY}\n")


@pytest.mark.parametrize("case", OUTLOOK, ids=[case[0] for case in OUTLOOK])
def test_localized_outlook_forward(case: tuple[str, ...]) -> None:
    _, subject, *fields = case
    forward = detect_forward(subject, _outlook(*fields))
    assert forward is not None
    assert (forward.note, forward.original.sender, forward.original.subject) == (NOTE, ANNA, "Terminal")
    assert forward.original.date == WHEN
    assert forward.original.text == BODY


@pytest.mark.parametrize("case", OUTLOOK, ids=[case[0] for case in OUTLOOK])
def test_localized_outlook_forward_in_cp_charset_mail(case: tuple[str, ...]) -> None:
    """The whole mail as the Windows client sends it: its ANSI code page, raw 8-bit subject."""
    language, subject, *fields = case
    codec = {"tr": "cp1254", "cs": "cp1250", "hu": "cp1250", "el": "cp1253", "ro": "cp1250",
             "uk": "cp1251"}.get(language, "cp1252")
    raw = (f"From: Bo Lind <bo@example.net>\r\nTo: desk@shop.example\r\nSubject: {subject}\r\n"
           f"Message-ID: <fw-{language}@example.net>\r\nMIME-Version: 1.0\r\n"
           f"Content-Type: text/plain; charset=\"{codec.replace('cp', 'windows-')}\"\r\n"
           f"Content-Transfer-Encoding: 8bit\r\n\r\n").encode(codec) + _outlook(*fields).replace("\n", "\r\n").encode(codec)
    parsed = parse_message(raw)
    assert parsed.subject == subject
    assert parsed.forward is not None
    assert parsed.forward.original.sender == ANNA
    assert parsed.forward.original.date == WHEN
    assert parsed.text == NOTE


RUSSIAN_WEBMAIL = [
    ("mail.ru", "Fwd: Terminal", "-------- Пересылаемое сообщение --------\nОт кого: Anna Berg <anna@example.com>\n"
     "Кому: support@example.com\nДата: Понедельник, 4 марта 2024, 9:15 UTC\nТема: Terminal"),
    ("yandex", "Fwd: Terminal", "-------- Пересылаемое сообщение --------\nОт: Anna Berg <anna@example.com>\n"
     "Кому: support@example.com\nДата: 04.03.2024, 09:15\nТема: Terminal"),
    ("rambler", "Fwd: Terminal", "----- Пересланное письмо -----\nОт кого: \"Anna Berg\" <anna@example.com>\n"
     "Дата: 4 марта 2024 г. 9:15\nКому: support@example.com\nТема: Terminal"),
    ("mail.ru without dashes", "Fwd: Terminal", "Пересылаемое сообщение\nОт кого: Anna Berg <anna@example.com>\n"
     "Кому: support@example.com\nДата: Понедельник, 4 марта 2024, 9:15 UTC\nТема: Terminal"),
]


@pytest.mark.parametrize("case", RUSSIAN_WEBMAIL, ids=[case[0] for case in RUSSIAN_WEBMAIL])
def test_russian_webmail_forward(case: tuple[str, str, str]) -> None:
    _, subject, header = case
    forward = detect_forward(subject, f"{NOTE}\n\n{header}\n\n{BODY}\n")
    assert forward is not None
    assert (forward.note, forward.original.sender, forward.original.subject) == (NOTE, ANNA, "Terminal")
    assert forward.original.date == WHEN
    assert forward.original.text == BODY


def test_mail_ru_forward_as_koi8_mail() -> None:
    header = RUSSIAN_WEBMAIL[0][2].replace("\n", "\r\n")
    raw = ("From: =?koi8-r?B?5M3J1NLJyg==?= <dm@mail.example>\r\nTo: desk@shop.example\r\nSubject: Fwd: Terminal\r\n"
           "Content-Type: text/plain; charset=koi8-r\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
           f"{NOTE}\r\n\r\n{header}\r\n\r\n{BODY}\r\n").encode("koi8-r")
    parsed = parse_message(raw)
    assert parsed.forward is not None and parsed.forward.original.sender == ANNA
    assert parsed.forward.original.subject == "Terminal"

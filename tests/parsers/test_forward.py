"""Forward detection: each client's separator, the note above it, the recovered original."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from parsers.forward import detect_forward, extract_embedded, parse_date
from parsers.message import Address

NOTE = "Partner team, please take this one: terminal at the Berlin shop."
BODY = "Our card terminal does not print receipts since Friday.\n\nAnna"
ANNA = Address(name="Anna Berg", email="anna@example.com")
WHEN = datetime(2024, 3, 4, 9, 15, tzinfo=timezone.utc)

FORWARDS = [
    ("gmail", "Fwd: Terminal", "---------- Forwarded message ---------\nFrom: Anna Berg <Anna@Example.com>\n"
     "Date: Mon, Mar 4, 2024 at 10:15 AM +0100\nSubject: Terminal\nTo: <support@example.com>"),
    ("gmail de", "WG: Terminal", "---------- Weitergeleitete Nachricht ---------\nVon: Anna Berg <anna@example.com>\n"
     "Date: Mo., 4. März 2024 um 10:15 Uhr +0100\nSubject: Terminal\nTo: <support@example.com>"),
    ("apple", "Fwd: Terminal", "Begin forwarded message:\n\nFrom: Anna Berg <anna@example.com>\nSubject: Terminal\n"
     "Date: 4 March 2024 at 10:15:00 GMT+1\nTo: support@example.com"),
    ("apple de", "WG: Terminal", "Anfang der weitergeleiteten Nachricht:\n\nVon: Anna Berg <anna@example.com>\n"
     "Betreff: Terminal\nDatum: 4. März 2024 um 10:15:00 +0100\nAn: support@example.com"),
    ("thunderbird", "Fwd: Terminal", "-------- Forwarded Message --------\nSubject: \tTerminal\n"
     "Date: \tMon, 4 Mar 2024 10:15:00 +0100\nFrom: \tAnna Berg <anna@example.com>\nTo: \tsupport@example.com"),
    ("thunderbird de", "WG: Terminal", "-------- Weitergeleitete Nachricht --------\nBetreff: \tTerminal\n"
     "Datum: \tMon, 4 Mar 2024 10:15:00 +0100\nVon: \tAnna Berg <anna@example.com>\nAn: \tsupport@example.com"),
    ("outlook", "FW: Terminal", "-----Original Message-----\nFrom: Anna Berg <anna@example.com>\n"
     "Sent: Monday, March 4, 2024 9:15 AM\nTo: support@example.com\nSubject: Terminal"),
    ("outlook de", "WG: Terminal", "-----Ursprüngliche Nachricht-----\nVon: Anna Berg <anna@example.com>\n"
     "Gesendet: Montag, 4. März 2024 09:15\nAn: support@example.com\nBetreff: Terminal"),
    ("outlook fr", "TR: Terminal", "-----Message d'origine-----\nDe : Anna Berg <anna@example.com>\n"
     "Envoyé : lundi 4 mars 2024 09:15\nÀ : support@example.com\nObjet : Terminal"),
    ("outlook es", "RV: Terminal", "-----Mensaje original-----\nDe: Anna Berg <anna@example.com>\n"
     "Enviado el: lunes, 4 de marzo de 2024 09:15\nPara: support@example.com\nAsunto: Terminal"),
    ("outlook ru", "Пересл: Terminal", "-----Исходное сообщение-----\nОт: Anna Berg <anna@example.com>\n"
     "Отправлено: 4 марта 2024 г. 9:15\nКому: support@example.com\nТема: Terminal"),
    ("outlook header block only", "FW: Terminal", "________________________________\nFrom: Anna Berg [mailto:anna@example.com]\n"
     "Sent: Monday, March 4, 2024 9:15 AM\nTo: support@example.com\nSubject: Terminal"),
    ("outlook nl", "Doorst: Terminal", "Van: Anna Berg <anna@example.com>\nVerzonden: maandag 4 maart 2024 09:15\n"
     "Aan: support@example.com\nOnderwerp: Terminal"),
    ("yandex", "Fwd: Terminal", "-------- Пересылаемое сообщение --------\n04.03.2024, 10:15, \"Anna Berg\" <anna@example.com>:\n"),
    ("mail.ru", "Fwd: Terminal", "-------- Пересылаемое сообщение --------\nОт: Anna Berg <anna@example.com>\n"
     "Кому: support@example.com\nДата: Понедельник, 4 марта 2024, 9:15 UTC\nТема: Terminal"),
]


@pytest.mark.parametrize(("client", "subject", "header"), FORWARDS, ids=[f[0] for f in FORWARDS])
def test_forward_of_each_client(client: str, subject: str, header: str) -> None:
    forward = detect_forward(subject, f"{NOTE}\n\n{header}\n\n{BODY}\n")
    assert forward is not None
    assert forward.note == NOTE
    assert forward.original.text == BODY
    if client != "yandex":  # Yandex writes an attribution line, not header fields
        assert forward.original.sender == ANNA
        assert forward.original.subject == "Terminal"
        assert forward.original.date is not None


def test_dates_of_the_forwarded_header() -> None:
    assert parse_date("Mon, Mar 4, 2024 at 10:15 AM +0100") == WHEN
    assert parse_date("Monday, March 4, 2024 9:15 AM") == WHEN
    assert parse_date("4 March 2024 at 10:15:00 GMT+1") == WHEN
    assert parse_date("Montag, 4. März 2024 09:15") == WHEN
    assert parse_date("lundi 4 mars 2024 09:15") == WHEN
    assert parse_date("Mon, 4 Mar 2024 10:15:00 +0100") == WHEN
    assert parse_date("sometime last week") is None


def test_message_id_and_wrapped_subject() -> None:
    text = ("FYI\n\n---------- Forwarded message ---------\nFrom: anna@example.com\nDate: Mon, 4 Mar 2024 10:15:00 +0100\n"
            "Subject: Terminal does not print\n receipts any more\nMessage-ID: <abc.123@mail.example.com>\nTo: support@example.com\n\nBody")
    forward = detect_forward("Fwd: Terminal", text)
    assert forward is not None
    assert forward.original.subject == "Terminal does not print receipts any more"
    assert forward.original.message_id == "<abc.123@mail.example.com>"
    assert forward.original.sender == Address(name="", email="anna@example.com")
    assert forward.original.text == "Body"


def test_quoted_apple_forward() -> None:
    text = f"{NOTE}\n\n> Begin forwarded message:\n>\n> From: Anna Berg <anna@example.com>\n> Subject: Terminal\n>\n> Receipts missing."
    forward = detect_forward("Fwd: Terminal", text)
    assert forward is not None
    assert forward.note == NOTE
    assert forward.original.sender == ANNA
    assert forward.original.text == "Receipts missing."


def test_outlook_reply_block_is_not_a_forward_without_fwd_subject() -> None:
    text = f"Done.\n\nFrom: Anna Berg <anna@example.com>\nSent: Monday, March 4, 2024 9:15 AM\nTo: support@example.com\nSubject: Terminal\n\n{BODY}"
    assert detect_forward("RE: Terminal", text) is None
    embedded = extract_embedded(text)
    assert embedded is not None and embedded.note == "Done." and embedded.original.sender == ANNA


@pytest.mark.parametrize("subject", ["Fwd: x", "FW: x", "WG: x", "TR: x", "RV: x", "Doorst: x", "PD: x",
                                     "Пересл: x", "Fwd/Пересылаемое: x", "إعادة توجيه: x", "转发: x", "転送: x", "İlt: x",
                                     "[Fwd: x]", "Re: Fwd: x"])
def test_forward_subject_prefixes_allow_a_bare_header_block(subject: str) -> None:
    text = f"{NOTE}\n\nFrom: Anna Berg <anna@example.com>\nSent: Monday, March 4, 2024 9:15 AM\nTo: support@example.com\nSubject: Terminal\n\n{BODY}"
    forward = detect_forward(subject, text)
    assert forward is not None
    assert forward.note == NOTE
    assert forward.original.sender == ANNA


def test_plain_message_is_not_a_forward() -> None:
    assert detect_forward("Terminal", "The terminal is broken.\n\nAnna") is None
    assert detect_forward("", "") is None


def test_header_block_flattened_on_one_line() -> None:
    text = f"{NOTE}\n\nFrom: Anna Berg <anna@example.com> Sent: Monday, March 4, 2024 9:15 AM To: support@example.com Subject: Terminal\n\n{BODY}"
    forward = detect_forward("FW: Terminal", text)
    assert forward is not None
    assert (forward.note, forward.original.sender, forward.original.subject) == (NOTE, ANNA, "Terminal")
    assert forward.original.date == WHEN
    assert forward.original.text == BODY


def test_cc_of_the_original_wrapped_and_mixed_forms() -> None:
    text = ("FYI\n\n---------- Forwarded message ---------\nFrom: Fred <fred@bedrock.example>\n"
            "Subject: Login problems\nCc: Terry Jones <terry@cc.example>, don@cc.example, B <\nb@cc.example>\n\n"
            "I cannot log in.")
    forward = detect_forward("Fwd: Login problems", text)
    assert forward is not None
    assert forward.original.cc == (Address("Terry Jones", "terry@cc.example"), Address("", "don@cc.example"),
                                   Address("B", "b@cc.example"))
    assert forward.original.text == "I cannot log in."

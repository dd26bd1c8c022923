"""Outlook header blocks, separators, inline answers and the shape of the result."""

from __future__ import annotations

import time

import pytest

from parsers.reply import split_reply

NEW = "The technician will come on Tuesday."
OLD = "Our card terminal at the front desk does not print receipts."

OUTLOOK_BLOCKS = [
    ("en", "From: Anna Berg <anna@example.com>\nSent: Monday, March 4, 2024 10:15 AM\nTo: Support <support@example.com>\nSubject: Terminal"),
    ("en owa bold", "*From:* Anna Berg <anna@example.com>\n*Sent:* Monday, March 4, 2024 10:15 AM\n*To:* support@example.com\n*Subject:* Terminal"),
    ("de", "Von: Anna Berg <anna@example.com>\nGesendet: Montag, 4. März 2024 10:15\nAn: Support <support@example.com>\nBetreff: Terminal"),
    ("fr", "De : Anna Berg <anna@example.com>\nEnvoyé : lundi 4 mars 2024 10:15\nÀ : Support <support@example.com>\nObjet : Terminal"),
    ("es", "De: Anna Berg <anna@example.com>\nEnviado el: lunes, 4 de marzo de 2024 10:15\nPara: Support <support@example.com>\nAsunto: Terminal"),
    ("it", "Da: Anna Berg <anna@example.com>\nInviato: lunedì 4 marzo 2024 10:15\nA: Support <support@example.com>\nOggetto: Terminal"),
    ("pt", "De: Anna Berg <anna@example.com>\nEnviado: segunda-feira, 4 de março de 2024 10:15\nPara: Support <support@example.com>\nAssunto: Terminal"),
    ("nl", "Van: Anna Berg <anna@example.com>\nVerzonden: maandag 4 maart 2024 10:15\nAan: Support <support@example.com>\nOnderwerp: Terminal"),
    ("pl", "Od: Anna Berg <anna@example.com>\nWysłano: poniedziałek, 4 marca 2024 10:15\nDo: Support <support@example.com>\nTemat: Terminal"),
    ("tr", "Kimden: Anna Berg <anna@example.com>\nGönderildi: 4 Mart 2024 Pazartesi 10:15\nKime: Support <support@example.com>\nKonu: Terminal"),
    ("ru", "От: Анна Берг <anna@example.com>\nОтправлено: 4 марта 2024 г. 10:15\nКому: Support <support@example.com>\nТема: Терминал"),
    ("uk", "Від: Анна Берг <anna@example.com>\nНадіслано: 4 березня 2024 р. 10:15\nКому: Support <support@example.com>\nТема: Термінал"),
    ("sv", "Från: Anna Berg <anna@example.com>\nSkickat: den 4 mars 2024 10:15\nTill: Support <support@example.com>\nÄmne: Terminal"),
    ("da", "Fra: Anna Berg <anna@example.com>\nSendt: 4. marts 2024 10:15\nTil: Support <support@example.com>\nEmne: Terminal"),
    ("ar", "من: Anna Berg <anna@example.com>\nتاريخ الإرسال: الاثنين، 4 مارس 2024 10:15\nإلى: Support <support@example.com>\nالموضوع: Terminal"),
    ("zh", "发件人: Anna Berg <anna@example.com>\n发送时间: 2024年3月4日 10:15\n收件人: Support <support@example.com>\n主题: Terminal"),
    ("ja", "差出人: Anna Berg <anna@example.com>\n送信日時: 2024年3月4日 10:15\n宛先: Support <support@example.com>\n件名: Terminal"),
]


@pytest.mark.parametrize(("language", "block"), OUTLOOK_BLOCKS, ids=[b[0] for b in OUTLOOK_BLOCKS])
def test_outlook_header_block_with_bar(language: str, block: str) -> None:
    history = f"________________________________\n{block}\n\n{OLD}"
    result = split_reply(f"{NEW}\n\n{history}")
    assert result.text == NEW
    assert result.elided == history


@pytest.mark.parametrize(
    "separator",
    [
        "-----Original Message-----",
        "-----Ursprüngliche Nachricht-----",
        "-----Message d'origine-----",
        "-----Mensaje original-----",
        "-----Исходное сообщение-----",
        "-------- Original Message --------",
        "-------- Пересылаемое сообщение --------",
    ],
)
def test_original_message_separators(separator: str) -> None:
    history = f"{separator}\nFrom: Anna Berg\nSent: Monday\nTo: Support\nSubject: Terminal\n\n{OLD}"
    result = split_reply(f"{NEW}\n\n{history}")
    assert result.text == NEW
    assert result.elided == history


def test_trailing_quote_block_with_bare_attribution() -> None:
    result = split_reply(f"{NEW}\n\nAnna wrote:\n> {OLD}\n")
    assert result.text == NEW
    assert result.elided == f"Anna wrote:\n> {OLD}"


def test_inline_answers_between_quotes_stay_visible() -> None:
    body = (
        "Hi Anna,\n\nOn Mon, Mar 4, 2024 at 10:15 AM Anna Berg <anna@example.com> wrote:\n"
        "> Which model is it?\nA Verifone V200c.\n\n> Since when?\nSince Friday.\n\n> Thanks, Anna"
    )
    result = split_reply(body)
    assert result.text == (
        "Hi Anna,\n\nOn Mon, Mar 4, 2024 at 10:15 AM Anna Berg <anna@example.com> wrote:\n"
        "> Which model is it?\nA Verifone V200c.\n\n> Since when?\nSince Friday."
    )
    assert result.elided == "> Thanks, Anna"


def test_bottom_posted_reply_elides_attribution_and_quote() -> None:
    body = f"On Mon, Mar 4, 2024 at 10:15 AM Anna Berg <anna@example.com> wrote:\n> {OLD}\n\n{NEW}"
    result = split_reply(body)
    assert result.text == NEW
    assert result.elided == f"On Mon, Mar 4, 2024 at 10:15 AM Anna Berg <anna@example.com> wrote:\n> {OLD}"


def test_forward_without_note_shows_the_forwarded_text() -> None:
    header = "---------- Forwarded message ---------\nFrom: Anna Berg <anna@example.com>\nDate: Mon, Mar 4, 2024\nSubject: Terminal\nTo: support@example.com"
    result = split_reply(f"{header}\n\n{OLD}")
    assert result.text == OLD
    assert result.elided == header


def test_message_that_is_only_a_pasted_quote_is_kept() -> None:
    result = split_reply("> error: paper jam in tray 2")
    assert result.text == "> error: paper jam in tray 2"
    assert result.elided == ""


def test_crlf_and_empty_input() -> None:
    assert split_reply(f"{NEW}\r\n\r\n> {OLD}\r\n").text == NEW
    assert split_reply("") == split_reply("   \n")
    assert split_reply("").text == ""


def test_nothing_is_lost() -> None:
    body = f"{NEW}\n\nBest regards,\nPeter Hansen\n\nOn Mon, Mar 4, 2024 at 10:15 AM Anna <a@example.com> wrote:\n> {OLD}"
    result = split_reply(body)
    for line in body.splitlines():
        assert line.strip() in result.text or line.strip() in result.elided


def test_huge_quote_is_fast() -> None:
    body = "Thanks, fixed.\n\nOn Mon, Mar 4, 2024 Anna <a@example.com> wrote:\n" + "> " + "x" * 70 + "\n"
    body = body + ("> " + "word " * 14 + "\n") * 12000 + "\n" + "y" * 200_000
    started = time.perf_counter()
    result = split_reply(body)
    assert time.perf_counter() - started < 1.0
    assert result.text == "Thanks, fixed."


@pytest.mark.parametrize(
    "body",
    [
        "\n".join(["On Mon, 1 Jan 2024 <" + "x" * 50] * 20000),
        "\n".join(["From: x"] * 20000),
        "\n".join(["> q", "answer"] * 20000),
        "\n".join(["2024-01-01 " + "1" * 150] * 20000),
    ],
    ids=["attribution starts", "header fields", "interleaved", "dates"],
)
def test_adversarial_bodies_stay_fast(body: str) -> None:
    started = time.perf_counter()
    split_reply(body)
    assert time.perf_counter() - started < 1.0


def test_outlook_header_block_flattened_on_one_line() -> None:
    history = "From: Anna <anna@example.com> Sent: Monday, March 4, 2024 To: support@example.com Subject: Terminal\n\n" + OLD
    result = split_reply(f"{NEW}\n\n{history}")
    assert result.text == NEW
    assert result.elided == history

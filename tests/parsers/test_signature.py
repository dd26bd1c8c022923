"""Signatures: what mail apps and people write under the new text, and what is not one."""

from __future__ import annotations

import pytest

from parsers.reply import split_reply

NEW = "The receipt printer works again after the firmware update."

MOBILE = [
    "Sent from my iPhone",
    "Sent from my Samsung Galaxy smartphone.",
    "Get Outlook for iOS",
    "Sent from Yahoo Mail on Android",
    "Von meinem iPhone gesendet",
    "Envoyé de mon iPhone",
    "Enviado desde mi iPhone",
    "Inviato da iPhone",
    "Enviado do meu iPhone",
    "Verzonden vanaf mijn iPhone",
    "Wysłane z mojego iPhone'a",
    "iPhone'umdan gönderildi",
    "Отправлено с iPhone",
    "Надіслано з iPhone",
    "Skickat från min iPhone",
    "Sendt fra min iPhone",
    "أرسلت من الـ iPhone",
    "发自我的iPhone",
    "iPhoneから送信",
]


@pytest.mark.parametrize("line", MOBILE)
def test_mobile_signatures(line: str) -> None:
    result = split_reply(f"{NEW}\n\n{line}")
    assert result.text == NEW
    assert result.signature == line
    assert result.elided == line


CLOSINGS = [
    ("Best regards,", "Peter Hansen\nService Manager"),
    ("Kind regards,", "Peter"),
    ("Mit freundlichen Grüßen", "Peter Hansen\nKassensysteme GmbH\nTel. +49 30 1234567"),
    ("Viele Grüße", "Peter"),
    ("Cordialement,", "Pierre Dupont"),
    ("Saludos,", "Pedro"),
    ("Cordiali saluti", "Pietro"),
    ("Atenciosamente,", "Pedro"),
    ("Met vriendelijke groet,", "Pieter"),
    ("Z poważaniem,", "Piotr"),
    ("Saygılarımla,", "Mehmet"),
    ("С уважением,", "Пётр Иванов\nсервисный инженер"),
    ("З повагою,", "Петро"),
    ("Med vänlig hälsning", "Per"),
    ("Med venlig hilsen", "Per"),
    ("مع تحياتي،", "أحمد"),
    ("此致", "王伟"),
    ("よろしくお願いいたします。", "山田"),
]


@pytest.mark.parametrize(("closing", "name"), CLOSINGS, ids=[c[0] for c in CLOSINGS])
def test_closing_formula_and_name_lines(closing: str, name: str) -> None:
    signature = f"{closing}\n{name}"
    result = split_reply(f"{NEW}\n\n{signature}")
    assert result.text == NEW
    assert result.signature == signature
    assert result.elided == signature


def test_dash_dash_space_delimiter() -> None:
    signature = "-- \nPeter Hansen\nKassensysteme GmbH\nhttps://example.com"
    result = split_reply(f"{NEW}\n\n{signature}")
    assert (result.text, result.signature, result.elided) == (NEW, signature, signature)


def test_contact_block_without_delimiter() -> None:
    signature = "Peter Hansen\npeter@example.com\n+49 30 1234567\nwww.example.com"
    result = split_reply(f"{NEW}\n\n{signature}")
    assert (result.text, result.signature) == (NEW, signature)


def test_hyphen_sign_off_but_not_a_list() -> None:
    assert split_reply(f"{NEW}\n\n-Peter").signature == "-Peter"
    listing = f"{NEW}\n\n- check the cable\n- restart the terminal"
    assert split_reply(listing).text == listing


def test_signature_above_quoted_history() -> None:
    body = f"{NEW}\n\nBest regards,\nPeter\n\nOn Mon, Mar 4, 2024 at 10:15 AM Anna <a@example.com> wrote:\n> Is it fixed?"
    result = split_reply(body)
    assert result.text == NEW
    assert result.signature == "Best regards,\nPeter"
    assert result.elided == "Best regards,\nPeter\n\nOn Mon, Mar 4, 2024 at 10:15 AM Anna <a@example.com> wrote:\n> Is it fixed?"


@pytest.mark.parametrize(
    "body",
    [
        "Thanks,\nPeter",  # a thank-you is often the whole message
        "Sent from my desk, which is easier than from my phone.",
        "Best option is to restart the terminal.\nThen call us.",
        "Cheers for the quick fix!\nAll good now.",
        "Sent by courier on Monday, arrives Tuesday.",
        "Inviato da Mario il pacco ieri sera.",
        "Please call me back at +49 30 1234567 or\nwrite to anna@example.com before noon.",
        "Regards to your team: the terminal was replaced, the old one goes back to the vendor next week and "
        "the invoice follows with the monthly statement.",
        "Best regards,\nPeter\n\nP.S. The spare part costs 120 EUR, shipping included, and it will arrive on Friday at the latest, "
        "so please make sure someone is at the front desk to receive it.",
    ],
)
def test_content_is_not_eaten(body: str) -> None:
    result = split_reply(f"{NEW}\n\n{body}")
    assert result.text == f"{NEW}\n\n{body}"
    assert result.signature is None


def test_name_line_above_a_mobile_signature_belongs_to_it() -> None:
    result = split_reply(f"{NEW}\n\nAnna Berg\nSent from my iPhone")
    assert result.text == NEW
    assert result.signature == "Anna Berg\nSent from my iPhone"


def test_closing_and_name_on_one_line() -> None:
    result = split_reply(f"{NEW}\n\nBest, Peter")
    assert (result.text, result.signature) == (NEW, "Best, Peter")

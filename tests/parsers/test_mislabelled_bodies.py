"""Bodies labelled with the wrong charset: recognised as mojibake and read in their real charset."""

from __future__ import annotations

import base64
import quopri

import pytest

from parsers import parse_message

RUSSIAN = "Здравствуйте! Касса в магазине на Ленина снова не печатает чеки, прошу прислать мастера."
UKRAINIAN = "Доброго дня! Каса в магазині знову не друкує чеки, прошу надіслати майстра сьогодні."
BULGARIAN = "Здравейте! Касата в магазина отново не печата касови бележки, моля изпратете техник."
GREEK = "Καλημέρα σας! Το ταμείο στο κατάστημα δεν τυπώνει αποδείξεις, παρακαλώ στείλτε τεχνικό."


def _mail(body: bytes, content_type: str, cte: str = "8bit", mailer: str = "Microsoft Outlook Express 6.00") -> bytes:
    return (f"From: Client <client@shop.example>\r\nTo: support@desk.example\r\nSubject: Kassa\r\n"
            f"Date: Mon, 04 Mar 2024 09:15:00 +0300\r\n"
            f"Message-ID: <mislabel@shop.example>\r\nX-Mailer: {mailer}\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: {cte}\r\n\r\n").encode() + body + b"\r\n"


def _encoded(data: bytes, cte: str) -> bytes:
    if cte == "base64":
        return base64.encodebytes(data).replace(b"\n", b"\r\n")
    if cte == "quoted-printable":
        return quopri.encodestring(data).replace(b"\n", b"\r\n")
    return data


MISLABELLED = [
    (RUSSIAN, "cp1251", "iso-8859-1"),
    (RUSSIAN, "cp1251", "us-ascii"),
    (RUSSIAN, "cp1251", "windows-1252"),
    (RUSSIAN, "koi8-r", "iso-8859-1"),
    (RUSSIAN, "koi8-r", "us-ascii"),
    (UKRAINIAN, "cp1251", "iso-8859-1"),
    (BULGARIAN, "cp1251", "iso-8859-1"),
    (GREEK, "cp1253", "iso-8859-1"),
]


@pytest.mark.parametrize("cte", ["8bit", "quoted-printable", "base64"])
@pytest.mark.parametrize(("text", "codec", "label"), MISLABELLED)
def test_mislabelled_body_is_read_in_its_real_charset(text: str, codec: str, label: str, cte: str) -> None:
    raw = _mail(_encoded(text.encode(codec), cte), f'text/plain; charset="{label}"', cte)
    parsed = parse_message(raw)
    assert parsed.text == text
    problem = next(p for p in parsed.problems if p.startswith("text/plain part:"))
    assert label in problem or codec.replace("-", "_") in problem


def test_mislabelled_html_part_is_read_in_its_real_charset() -> None:
    html = f"<html><body><p>{RUSSIAN}</p></body></html>".encode("cp1251")
    raw = _mail(html, "text/html; charset=iso-8859-1")
    parsed = parse_message(raw)
    assert RUSSIAN in parsed.text
    assert any("text/html part: 8-bit text read as cp1251" in p for p in parsed.problems)


WESTERN = [
    "Grüße aus München! Die Kasse druckt seit Freitag keine Belege mehr.",
    "hab vergessen kritische zeichen einzufügen: äöüÄÖÜß",
    "Bonjour, la caisse du magasin n'imprime plus les reçus depuis vendredi. Merci d'avance, Hélène",
    "Hola, la caja de la tienda no imprime los recibos desde el viernes. ¿Pueden enviar a alguien? Año 2024",
    "Olá, a caixa da loja não imprime os recibos desde sexta-feira. Atenção: é urgente, obrigação contratual.",
    "Góðan daginn, kassinn í búðinni prentar ekki kvittanir síðan á föstudag. Þakka þér.",
    "Hei, kaupan kassa ei tulosta kuitteja perjantaista lähtien. Pääkäyttäjä on lomalla, yöllä ei auta.",
    "Hej, kassan i butiken skriver inte ut kvitton sedan fredag. Återkom snarast, tack så mycket.",
    "Hej, kassen i butikken udskriver ikke kvitteringer siden fredag. Øjeblikkelig hjælp ønskes, på forhånd tak.",
]


@pytest.mark.parametrize("text", WESTERN)
def test_real_latin1_text_is_left_alone(text: str) -> None:
    parsed = parse_message(_mail(text.encode("latin-1"), "text/plain; charset=iso-8859-1"))
    assert parsed.text == text
    assert not [p for p in parsed.problems if "charset" in p or "read as" in p]


@pytest.mark.parametrize("text", [RUSSIAN, GREEK, "Zażółć gęślą jaźń, proszę o kontakt."])
def test_correctly_labelled_legacy_text_is_left_alone(text: str) -> None:
    codec = {RUSSIAN: "cp1251", GREEK: "cp1253"}.get(text, "cp1250")
    parsed = parse_message(_mail(text.encode(codec), f"text/plain; charset=windows-{codec[2:]}"))
    assert parsed.text == text
    assert not parsed.problems

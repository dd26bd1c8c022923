"""Malformed From fields as mailers really write them: whatever sender they show is kept."""

from __future__ import annotations

import pytest

from parsers import parse_message
from parsers.message import Address


def _parse(from_field: bytes, extra: bytes = b""):  # type: ignore[no-untyped-def]
    return parse_message(b"From: " + from_field + b"\r\nTo: desk@shop.example\r\nSubject: Printer\r\n"
                         b"Date: Mon, 04 Mar 2024 09:15:00 +0000\r\nMessage-ID: <m@x.example>\r\n" + extra
                         + b"\r\nThe printer is jammed.\r\n")


CASES = [
    ("bare MAILER-DAEMON (sendmail)", b"MAILER-DAEMON", Address("MAILER-DAEMON", "")),
    ("MAILER-DAEMON with comment (Postfix)", b"MAILER-DAEMON (Mail Delivery System)",
     Address("MAILER-DAEMON (Mail Delivery System)", "")),
    ("unbalanced quote", b'"Smith, John <john.smith@client.example>', Address("Smith, John", "john.smith@client.example")),
    ("unbalanced angle bracket", b"John Smith <john.smith@client.example", Address("John Smith", "john.smith@client.example")),
    ("doubled closing bracket", b"<john.smith@client.example>>", Address("", "john.smith@client.example")),
    ("unquoted comma (Lotus Notes)", b"Smith, John <john.smith@client.example>",
     Address("Smith, John", "john.smith@client.example")),
    ("unquoted colon", b"Support: Team <team@client.example>", Address("Support: Team", "team@client.example")),
    ("trailing dot", b"john.smith@client.example.", Address("", "john.smith@client.example")),
    ("trailing dot in brackets", b"John <john.smith@client.example.>", Address("John", "john.smith@client.example")),
    ("address after a bare name", b"John Smith john.smith@client.example",
     Address("John Smith", "john.smith@client.example")),
    ("name only (a scanner)", b"Xerox WorkCentre 7845", Address("Xerox WorkCentre 7845", "")),
    ("null sender", b"<>", Address("", "")),
    ("group syntax without members", b"undisclosed-recipients:;", Address("undisclosed-recipients", "")),
    ("raw cp1251 name with unquoted comma", "Петров, Иван <ivan@client.example>".encode("cp1251"),
     Address("Петров, Иван", "ivan@client.example")),
    ("encoded name with comma", b"=?utf-8?q?M=C3=BCller=2C_Hans?= <h.mueller@client.example>",
     Address("Müller, Hans", "h.mueller@client.example")),
]


@pytest.mark.parametrize(("from_field", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_malformed_from_keeps_the_sender(from_field: bytes, expected: Address) -> None:
    parsed = _parse(from_field)
    assert parsed.sender == expected


def test_malformed_from_is_reported() -> None:
    parsed = _parse(b"Smith, John <john.smith@client.example>")
    assert any(p.startswith("malformed From") for p in parsed.problems)


def test_several_addresses_take_the_first_and_say_so() -> None:
    parsed = _parse(b"Anna Berg <anna@client.example>, Bo Lind <bo@client.example>",
                    b"Sender: Anna Berg <anna@client.example>\r\n")
    assert parsed.sender == Address("Anna Berg", "anna@client.example")
    assert any("2 addresses in From" in p for p in parsed.problems)


def test_several_addresses_one_malformed() -> None:
    parsed = _parse(b"Smith, John <john@client.example>, jane@client.example")
    assert parsed.sender == Address("Smith, John", "john@client.example")


@pytest.mark.parametrize("from_field", [b"MAILER-DAEMON", b"MAILER-DAEMON (Mail Delivery System)", b"<MAILER-DAEMON>"])
def test_bare_mailer_daemon_is_a_bounce_sender(from_field: bytes) -> None:
    parsed = _parse(from_field)
    assert parsed.sender is not None and "MAILER-DAEMON" in parsed.sender.name
    assert parsed.kind == "bounce"


def test_well_formed_from_is_not_touched() -> None:
    for field, expected in ((b'"Smith, John" <john@client.example>', Address("Smith, John", "john@client.example")),
                            (b"john@client.example (John Smith)", Address("John Smith", "john@client.example")),
                            (b"John Smith <John@Client.Example>", Address("John Smith", "john@client.example"))):
        parsed = _parse(field)
        assert parsed.sender == expected
        assert not any("From" in p for p in parsed.problems)


def test_from_without_address_falls_back_to_sender() -> None:
    parsed = _parse(b"Xerox WorkCentre 7845", b"Sender: Scanner <scanner@office.example>\r\n")
    assert parsed.sender == Address("Scanner", "scanner@office.example")


def test_from_without_address_is_reported() -> None:
    parsed = _parse(b"Xerox WorkCentre 7845")
    assert any(p.startswith("no sender address") for p in parsed.problems)

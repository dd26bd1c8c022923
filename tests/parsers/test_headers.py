"""Header decoding: encoded words (good and broken), addresses, dates, ids."""

from datetime import datetime, timezone

from parsers.headers import decode_value, message_ids, normalise_email, parse_addresses, parse_date


def test_adjacent_encoded_words_join_without_the_folding_space() -> None:
    assert decode_value("=?UTF-8?B?0J/RgNC4?=\r\n =?UTF-8?B?0LLQtdGC?= world")[0] == "Привет world"


def test_utf8_character_split_across_two_words_is_repaired() -> None:
    # b"\xf0\x9f\x98\x80" (grinning face) cut after three bytes by a sloppy encoder.
    assert decode_value("=?utf-8?B?8J+Y?= =?utf-8?B?gA==?=")[0] == "\U0001F600"


def test_bad_base64_padding_still_decodes() -> None:
    text, _ = decode_value("=?gb2312?B?suLK1A===?=")
    assert text == "测试"


def test_q_encoding_with_underscores_and_mixed_charsets() -> None:
    value = "Re: =?iso-8859-1?q?Niv=E5er=3F?= und =?koi8-r?Q?=D4=C5=D3=D4?="
    assert decode_value(value)[0] == "Re: Nivåer? und тест"


def test_mislabelled_encoded_word_falls_back_to_utf8() -> None:
    text, problems = decode_value("=?iso-8859-1?B?0J/RgNC40LLQtdGC?=")
    assert text == "Привет"
    assert problems


def test_unknown_charset_does_not_crash() -> None:
    text, problems = decode_value("=?x-no-such-charset?Q?caf=E9?=")
    assert text == "café"
    assert any("x-no-such-charset" in p for p in problems)


def test_crlf_inside_encoded_word_cannot_inject_a_header() -> None:
    text, _ = decode_value("=?utf-8?q?Hello=0D=0ABcc:_victim@example.com?=")
    assert "\n" not in text and "\r" not in text
    assert text == "Hello Bcc: victim@example.com"


def test_raw_8bit_koi8_subject_without_any_label() -> None:
    raw = "тест тест".encode("koi8-r").decode("ascii", "surrogateescape")
    text, problems = decode_value(raw)
    assert text == "тест тест"
    assert problems


def test_addresses_are_normalised_and_names_decoded() -> None:
    found, _ = parse_addresses(['"=?utf-8?q?Petrov,_Iv=C3=A1n?=" <Ivan.Petrov@Bücher.Example>, BOB@X.ORG'])
    assert [(a.name, a.email) for a in found] == [
        ("Petrov, Iván", "ivan.petrov@xn--bcher-kva.example"),
        ("", "bob@x.org"),
    ]


def test_group_syntax_and_garbage_give_no_bogus_addresses() -> None:
    found, _ = parse_addresses(["undisclosed-recipients:;", "not an address"])
    assert found == ()


def test_normalise_email_keeps_invalid_idn_lower_cased() -> None:
    assert normalise_email("A@Exa..mple.COM") == "a@exa..mple.com"


def test_date_to_aware_utc() -> None:
    assert parse_date("Sun, 29 Nov 2015 09:45:18 +0100") == (datetime(2015, 11, 29, 8, 45, 18, tzinfo=timezone.utc), None)


def test_broken_or_missing_date_is_none_with_problem() -> None:
    for value in ("yesterday-ish", None, "Mon, 99 Foo 99999 99:99:99 +9999"):
        date, problem = parse_date(value)
        assert date is None and problem


def test_message_ids_keep_brackets() -> None:
    assert message_ids("<a@b>\r\n\t<c@d> junk <e@f>") == ("<a@b>", "<c@d>", "<e@f>")
    assert message_ids("bare-id@host.example") == ("<bare-id@host.example>",)
    assert message_ids(None) == ()


def test_missing_sender_is_reported() -> None:
    from parsers import parse_message

    parsed = parse_message(b"To: support@vendor.example\r\nSubject: who?\r\n\r\nhello\r\n")
    assert parsed.sender is None
    assert any("no sender address" in p for p in parsed.problems)

"""Outbound composition rules, without a database: subjects, headers, Outlook threading, injection."""

from __future__ import annotations

import base64
import email
import string
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.policy import SMTP, default

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.core.tokens import (
    find_body_marker,
    find_reply_tokens,
    make_body_marker,
    make_verp_address,
    read_reply_token,
    read_verp_address,
    reply_address,
)
from gateway.outbound.compose import (
    Draft,
    FileRef,
    bare_subject,
    render_bytes,
    seven_bit_text,
    tagged_subject,
    thread_index,
)

SECRET = "a-secret-of-sixteen-or-more"
# Printable ASCII (header values written as they are), Latin, Cyrillic and emoji (encoded by the policy).
_HEADER_TEXT = (string.ascii_letters + string.digits + string.punctuation + " " * 8
                + "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВЖЯ" + "äöüßéèçñ€" + "🚀🔥👍😀")
_OUR_HEADERS = [
    "Date", "Message-ID", "From", "To", "Reply-To", "Subject", "In-Reply-To", "References", "Auto-Submitted",
    "X-Auto-Response-Suppress", "Thread-Topic", "Thread-Index", "X-Relaydesk-Ticket", "X-Relaydesk-Hops",
    "X-Relaydesk-Status", "Content-Type", "Content-Transfer-Encoding", "MIME-Version",
]


def test_subject_is_tagged_once_without_piled_up_prefixes() -> None:
    assert tagged_subject("VND-1", "Printer jams") == "[VND-1] Printer jams"
    assert tagged_subject("VND-1", "Re: RE: Fwd: [VND-1] Printer jams") == "[VND-1] Printer jams"
    assert tagged_subject("VND-1", "AW: WG: [PTN-7] Re: Printer") == "[VND-1] Printer"
    assert tagged_subject("VND-1", "") == "[VND-1]"
    assert bare_subject("Re[2]: Ответ: Printer\r\n jams") == "Printer jams"


def _draft(**changes) -> Draft:  # type: ignore[no-untyped-def]
    values = dict(
        ref="VND-1", kind="reply", from_name="Vendor Ltd", from_email="support@vendor.example",
        to_name="Alice", to_email="alice@client.example", reply_to="support+tok@vendor.example",
        subject="[VND-1] Printer", text="Hello", message_id="<m1@relaydesk.invalid>", marker="[ref:VND-1:x]",
        thread_topic="Printer", thread_index="AQ==", hops=2,
    )
    values.update(changes)
    return Draft(**values)


def test_rendered_headers_thread_in_every_client_and_carry_our_markers() -> None:
    draft = _draft(in_reply_to="<b@c>", references=["<a@c>", "<b@c>"], auto=True,
                   headers={"X-Relaydesk-Status": "open"}, footer=["VND-1 (Vendor Ltd, open)"])
    parsed = email.message_from_bytes(render_bytes(draft, lambda sha: b""), policy=default)
    assert parsed["Message-ID"] == "<m1@relaydesk.invalid>"
    assert (parsed["In-Reply-To"], parsed["References"]) == ("<b@c>", "<a@c> <b@c>")
    assert parsed["Auto-Submitted"] == "auto-replied" and parsed["X-Relaydesk-Hops"] == "2"
    assert parsed["X-Relaydesk-Ticket"] == "VND-1" and parsed["X-Relaydesk-Status"] == "open"
    assert parsed["Thread-Topic"] == "Printer" and parsed["Reply-To"].addresses[0].addr_spec == "support+tok@vendor.example"
    body = parsed.get_body(("plain",)).get_content()
    assert body.index("Hello") < body.index("VND-1 (Vendor Ltd, open)") < body.index("[ref:VND-1:x]")


@pytest.mark.parametrize(("name", "subject"), [
    ("Alice Example", "[VND-1] Printer jams"),
    ('Doe, John "JD" (ops)', "[VND-1] Re: a subject: with (specials) <and> \\ \"quotes\""),
    ("Алиса Петрова", "[VND-1] Принтер на третьем этаже не печатает по утрам, уже третий день подряд"),
    ("Vendor 🚀 Ltd", "[VND-1] 🔥 server down 🔥"),
    ("Bob", "[VND-1] " + " ".join(["a-rather-long-ascii-subject"] * 8)),
])
def test_every_header_value_round_trips(name: str, subject: str) -> None:
    # Display names fit one encoded word: Python 3.11's parser reads a space between adjacent ones.
    draft = _draft(from_name=name, to_name=name, subject=subject, thread_topic=subject, in_reply_to="<b@c>",
                   references=["<a@c>", "<b@c>"], auto=True, headers={"X-Relaydesk-Status": subject})
    raw = render_bytes(draft, lambda sha: b"")
    assert raw.split(b"\r\n\r\n", 1)[0].isascii()
    parsed = email.message_from_bytes(raw, policy=default)
    assert list(parsed.keys()) == _OUR_HEADERS
    assert parsed["Date"].datetime == draft.date.replace(microsecond=0)
    for header, address in (("From", "support@vendor.example"), ("To", "alice@client.example"),
                            ("Reply-To", "support+tok@vendor.example")):
        [parsed_address] = parsed[header].addresses
        assert (parsed_address.display_name, parsed_address.addr_spec) == (name, address)
    assert parsed["Subject"] == parsed["Thread-Topic"] == parsed["X-Relaydesk-Status"] == subject
    assert (parsed["Message-ID"], parsed["In-Reply-To"], parsed["References"]) == ("<m1@relaydesk.invalid>", "<b@c>",
                                                                                   "<a@c> <b@c>")
    assert (parsed["Auto-Submitted"], parsed["X-Auto-Response-Suppress"]) == ("auto-replied", "All")
    assert (parsed["Thread-Index"], parsed["X-Relaydesk-Ticket"], parsed["X-Relaydesk-Hops"]) == ("AQ==", "VND-1", "2")


@given(st.text(st.sampled_from(_HEADER_TEXT), max_size=200))
def test_any_subject_is_encoded_folded_and_read_back_as_one_line(subject: str) -> None:
    raw = render_bytes(_draft(subject=subject, thread_topic=subject), lambda sha: b"")
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii() and max(len(line) for line in head.split(b"\r\n")) <= 78
    parsed = email.message_from_bytes(raw, policy=default)
    assert parsed["Subject"] == parsed["Thread-Topic"] == " ".join(subject.split())


def test_long_references_are_folded_between_ids() -> None:
    ids = [f"<{i:02d}.CAHx7QmVeryLongIdentifierFromAMailer.{i}@mail.client-domain.example>" for i in range(40)]
    raw = render_bytes(_draft(in_reply_to=ids[-1], references=ids), lambda sha: b"")
    lines = raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    assert max(len(line) for line in lines) <= 78
    assert sum(line.startswith(b" <") for line in lines) >= 39
    parsed = email.message_from_bytes(raw, policy=default)
    assert (parsed["References"].split(), parsed["In-Reply-To"].split()) == (ids, ids[-1:])


def test_every_line_ends_in_crlf() -> None:
    draft = _draft(to_name="Алиса", text="line one\nline two\r\nline three\rПривет 🚀", footer=["a\nb"],
                   attachments=[FileRef("ab" * 32, "report.pdf", "application/pdf")])
    raw = render_bytes(draft, lambda sha: b"%PDF-1.4\n" * 50)
    assert raw.endswith(b"\r\n") and b"\r" not in raw.replace(b"\r\n", b"") and b"\n" not in raw.replace(b"\r\n", b"")


def test_line_breaks_in_any_header_value_cannot_add_a_header() -> None:
    injected = "Hi\r\nBcc: victim@example.com"
    draft = _draft(from_name=injected, to_name="Eve\nBcc: victim@example.com", subject=injected, thread_topic=injected,
                   message_id="<m1@relaydesk.invalid>\r\nBcc: victim@example.com", in_reply_to=f"<b@c>\r\n{injected}",
                   references=["<a@c>", "<b@c>\nBcc: victim@example.com"], headers={"X-Relaydesk-Status": injected})
    raw = render_bytes(draft, lambda sha: b"")
    headers = raw.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in headers
    parsed = email.message_from_bytes(raw, policy=default)
    assert "Bcc" not in parsed and parsed["Subject"] == "Hi Bcc: victim@example.com"


def test_attachments_come_from_the_blob_store_by_hash() -> None:
    blobs = {"ab" * 32: b"%PDF-1.4", "cd" * 32: bytes(range(256)) * 4}
    draft = _draft(attachments=[FileRef("ab" * 32, "report.pdf", "application/pdf"), FileRef("cd" * 32, "отчёт.bin", "")])
    parsed = email.message_from_bytes(render_bytes(draft, blobs.__getitem__), policy=default)
    assert parsed.get_content_type() == "multipart/mixed" and parsed["X-Relaydesk-Ticket"] == "VND-1"
    assert parsed.get_body(("plain",)).get_content().splitlines() == ["Hello", "", "[ref:VND-1:x]"]
    assert [(part.get_filename(), part.get_content_type(), part.get_content()) for part in parsed.iter_attachments()] == [
        ("report.pdf", "application/pdf", b"%PDF-1.4"),
        ("отчёт.bin", "application/octet-stream", bytes(range(256)) * 4),
    ]


def test_thread_index_shares_the_conversation_header_and_grows_on_replies() -> None:
    start = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)
    first = base64.b64decode(thread_index("ticket-1", start, start, reply=False))
    later = base64.b64decode(thread_index("ticket-1", start, start + timedelta(hours=1), reply=True))
    other = base64.b64decode(thread_index("ticket-2", start, start, reply=False))
    assert len(first) == 22 and len(later) == 27 and later[:22] == first and other[6:] != first[6:]


def test_reply_tokens_round_trip_and_reject_forgery_and_tampering() -> None:
    address = reply_address(SECRET, "support@vendor.example", 12, 34)
    [(found, token)] = find_reply_tokens(SECRET, ["alice@client.example", address.upper()])
    assert (token.ticket_id, token.participant_id) == (12, 34) and found == address
    tag = address.split("+")[1].split("@")[0]
    assert read_reply_token("another-secret-of-sixteen", tag) is None
    assert read_reply_token(SECRET, tag.replace("rc-", "rd-")) is None
    assert read_reply_token(SECRET, "r1-1-nothex") is None and find_reply_tokens(SECRET, ["x+y@z"]) == []


def test_verp_addresses_name_the_outbox_item_and_cannot_be_forged() -> None:
    verp = make_verp_address(SECRET, "bounces@vendor.example", 77)
    assert verp.startswith("bounces+77-") and verp.endswith("@vendor.example")
    assert read_verp_address(SECRET, verp) == 77 and read_verp_address(SECRET, verp.upper()) == 77
    assert read_verp_address(SECRET, verp.replace("+77-", "+78-")) is None
    assert read_verp_address(SECRET, "bounces@vendor.example") is None


def test_body_marker_is_found_in_quotes_only_when_signed() -> None:
    marker = make_body_marker(SECRET, "VND-1")
    assert find_body_marker(SECRET, ["new text", f"> old\n> {marker}"]) == "VND-1"
    assert find_body_marker(SECRET, [marker.replace("VND-1", "VND-2")]) is None


@given(ticket_id=st.integers(1, 2**40), participant_id=st.integers(1, 2**40), position=st.integers(0, 200),
       replacement=st.sampled_from("0123456789abcdef"))
def test_any_single_character_change_breaks_a_reply_token(ticket_id, participant_id, position, replacement) -> None:
    token = reply_address(SECRET, "support@vendor.example", ticket_id, participant_id).split("+")[1].split("@")[0]
    assert read_reply_token(SECRET, token) is not None
    index = position % len(token)
    if token[index] in "-r" or token[index] == replacement:
        return
    assert read_reply_token(SECRET, token[:index] + replacement + token[index + 1:]) is None


# Pieces, so that lines near and over 78 bytes come up as often as short ones.
_BODY_TEXT = st.lists(st.sampled_from([*string.printable, "a" * 40, "é", "\x00", "\x0b", "\r\n"]),
                      max_size=60).map("".join)


@given(_BODY_TEXT)
def test_ascii_text_is_written_as_the_library_writes_it(text: str) -> None:
    expected = EmailMessage(policy=SMTP)
    expected.set_content(text)
    fast = seven_bit_text(text)
    if fast is not None:
        assert fast == expected.as_bytes()
    else:  # left to the library: non-ASCII or a line over 78 bytes, which it does not send as 7bit
        assert expected["Content-Transfer-Encoding"] != "7bit" or not text.isascii()


def test_short_ascii_text_takes_the_fast_path_and_the_rest_does_not() -> None:
    assert seven_bit_text("Hello\nThanks, we got it.\n") is not None
    assert seven_bit_text("Grüße\n") is None
    assert seven_bit_text("x" * 79 + "\n") is None
    draft = _draft(text="Hello")
    assert b"Content-Transfer-Encoding: 7bit\r\n" in render_bytes(draft, lambda sha: b"")

"""Outbound composition rules, without a database: subjects, headers, Outlook threading, injection."""

from __future__ import annotations

import base64
import email
from datetime import datetime, timedelta, timezone
from email.policy import default

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
    render,
    tagged_subject,
    thread_index,
)

SECRET = "a-secret-of-sixteen-or-more"


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
    parsed = email.message_from_bytes(render(draft, lambda sha: b"").as_bytes(), policy=default)
    assert parsed["Message-ID"] == "<m1@relaydesk.invalid>"
    assert (parsed["In-Reply-To"], parsed["References"]) == ("<b@c>", "<a@c> <b@c>")
    assert parsed["Auto-Submitted"] == "auto-replied" and parsed["X-Relaydesk-Hops"] == "2"
    assert parsed["X-Relaydesk-Ticket"] == "VND-1" and parsed["X-Relaydesk-Status"] == "open"
    assert parsed["Thread-Topic"] == "Printer" and parsed["Reply-To"].addresses[0].addr_spec == "support+tok@vendor.example"
    body = parsed.get_body(("plain",)).get_content()
    assert body.index("Hello") < body.index("VND-1 (Vendor Ltd, open)") < body.index("[ref:VND-1:x]")


def test_header_injection_in_names_and_subjects_is_flattened() -> None:
    draft = _draft(to_name="Eve\r\nBcc: victim@example.com", subject="Hi\r\nBcc: victim@example.com")
    raw = render(draft, lambda sha: b"").as_bytes()
    headers = raw.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in headers


def test_attachments_come_from_the_blob_store_by_hash() -> None:
    blobs = {"ab" * 32: b"%PDF-1.4"}
    draft = _draft(attachments=[FileRef("ab" * 32, "report.pdf", "application/pdf")])
    parsed = email.message_from_bytes(render(draft, blobs.__getitem__).as_bytes(), policy=default)
    [part] = list(parsed.iter_attachments())
    assert (part.get_filename(), part.get_content_type(), part.get_content()) == ("report.pdf", "application/pdf", b"%PDF-1.4")


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

"""SPEC §4 threading rules end to end: intake → pipeline → which ticket, stored how."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.core.runtime import Runtime
from gateway.core.tokens import make_body_marker, make_reply_token
from storage.models import Event, Ticket
from tests.pipeline.mail import (
    config_with,
    deliver,
    mail,
    outbox,
    sent_mail,
    set_status,
    ticket,
)


def _open_vnd1(runtime: Runtime):
    """S1.1: alice opens VND-1; returns the parsed acknowledgement she received."""
    deliver(runtime, mail(message_id="<first@client.example>"))
    [ack] = outbox(runtime)
    return sent_mail(runtime, ack)


def _reply_address(ack) -> str:
    return ack["Reply-To"].addresses[0].addr_spec


def test_reply_by_in_reply_to_threads_and_keeps_only_new_text(runtime) -> None:
    ack = _open_vnd1(runtime)
    quoted = "It also happens on tray 1\n\nOn Mon, 23 Nov 2026 at 10:00, Vendor Ltd wrote:\n> thank you\n"
    _, out = deliver(runtime, mail(subject="Re: Printer jams", text=quoted, in_reply_to=ack["Message-ID"],
                                   references=f"<first@client.example> {ack['Message-ID']}"))
    messages = ticket(runtime, "VND-1").messages
    assert len(messages) == 2 and messages[1].visibility == "public"
    assert messages[1].text.strip() == "It also happens on tray 1"
    assert out == []


def test_reply_to_the_token_address_threads_without_any_header(runtime) -> None:
    ack = _open_vnd1(runtime)
    token_address = _reply_address(ack)
    deliver(runtime, mail(to=token_address, subject="another thing"), rcpt=[token_address])
    assert len(ticket(runtime, "VND-1").messages) == 2
    with runtime.db.transaction() as session:
        assert session.scalar(select(Ticket).where(Ticket.ref == "VND-2")) is None


def test_subject_tag_threads_a_fresh_mail(runtime) -> None:
    _open_vnd1(runtime)
    deliver(runtime, mail(subject="[VND-1] still broken"))
    assert [m.visibility for m in ticket(runtime, "VND-1").messages] == ["public", "public"]


def test_forged_token_is_ignored(runtime) -> None:
    _open_vnd1(runtime)
    forged = "support+r1-1-0123456789abcdef@vendor.example"
    deliver(runtime, mail(sender="mallory@evil.example", to=forged, subject="hello"), rcpt=[forged])
    assert len(ticket(runtime, "VND-1").messages) == 1
    assert ticket(runtime, "VND-2").messages[0].from_email == "mallory@evil.example"


def test_token_of_another_accounts_ticket_is_ignored(runtime) -> None:
    deliver(runtime, mail(to="service@partner.example"), rcpt=["service@partner.example"])
    partner_ack = sent_mail(runtime, outbox(runtime)[0])
    token = _reply_address(partner_ack).split("+", 1)[1].split("@")[0]
    crossed = f"support+{token}@vendor.example"
    deliver(runtime, mail(to=crossed, subject="crossing tenants"), rcpt=[crossed])
    assert len(ticket(runtime, "PTN-1").messages) == 1
    assert ticket(runtime, "VND-1").subject == "crossing tenants"


def test_another_accounts_subject_tag_is_ignored(runtime) -> None:
    _open_vnd1(runtime)
    deliver(runtime, mail(to="service@partner.example", subject="Re: [VND-1] Printer"),
            rcpt=["service@partner.example"])
    assert len(ticket(runtime, "VND-1").messages) == 1
    assert ticket(runtime, "PTN-1").subject == "Re: [VND-1] Printer"


def test_outsider_following_up_is_internal_unverified_and_answered_by_nobody(runtime) -> None:
    _open_vnd1(runtime)
    _, out = deliver(runtime, mail(sender="Mallory <mallory@evil.example>", subject="Re: [VND-1] Printer"))
    last = ticket(runtime, "VND-1").messages[-1]
    assert (last.visibility, last.unverified, last.from_email) == ("internal", True, "mallory@evil.example")
    assert out == [] and len(outbox(runtime)) == 1


def test_auto_reply_is_stored_auto_without_reopening_or_answering(runtime) -> None:
    ack = _open_vnd1(runtime)
    set_status(runtime, "VND-1", "resolved")
    _, out = deliver(runtime, mail(subject="Automatic reply: [VND-1] Printer", text="I am away until Monday.",
                                   in_reply_to=ack["Message-ID"], headers={"Auto-Submitted": "auto-replied"}))
    vnd1 = ticket(runtime, "VND-1")
    assert vnd1.messages[-1].visibility == "auto" and vnd1.status == "resolved"
    assert out == [] and len(outbox(runtime)) == 1


def test_auto_reply_matching_no_ticket_opens_none(runtime) -> None:
    _, out = deliver(runtime, mail(subject="Out of office", headers={"Auto-Submitted": "auto-replied"}))
    with runtime.db.transaction() as session:
        assert session.scalar(select(Ticket)) is None
    assert out == []


def test_requester_reopens_a_resolved_ticket(runtime) -> None:
    ack = _open_vnd1(runtime)
    set_status(runtime, "VND-1", "resolved")
    deliver(runtime, mail(subject="Re: [VND-1] Printer", text="It is back.", in_reply_to=ack["Message-ID"]))
    vnd1 = ticket(runtime, "VND-1")
    assert vnd1.status == "open"
    with runtime.db.transaction() as session:
        changes = [e.detail for e in session.scalars(select(Event).where(Event.type == "status_changed"))]
    assert changes == [{"from": "resolved", "to": "open", "by": "alice@client.example"}]


def test_follow_up_to_a_closed_ticket_opens_a_linked_one(runtime) -> None:
    ack = _open_vnd1(runtime)
    set_status(runtime, "VND-1", "closed")
    deliver(runtime, mail(subject="Re: [VND-1] Printer", text="Broken again.", in_reply_to=ack["Message-ID"]))
    vnd1, vnd2 = ticket(runtime, "VND-1"), ticket(runtime, "VND-2")
    assert vnd1.status == "closed" and len(vnd1.messages) == 1
    assert vnd2.related_ticket_id == vnd1.id and vnd2.messages[0].text.strip() == "Broken again."


@pytest.fixture
def reopening_runtime(tmp_path: Path) -> Iterator[Runtime]:
    rt = Runtime.open(config_with(tmp_path, account_changes={"vendor": {"followup_to_closed": "reopen"}}))
    yield rt
    rt.close()


def test_follow_up_to_closed_reopens_when_the_account_says_so(reopening_runtime) -> None:
    _open_vnd1(reopening_runtime)
    set_status(reopening_runtime, "VND-1", "closed")
    deliver(reopening_runtime, mail(subject="Re: [VND-1] Printer", text="Broken again."))
    assert ticket(reopening_runtime, "VND-1").status == "open"


def test_body_marker_threads_when_message_ids_were_rewritten(runtime) -> None:
    _open_vnd1(runtime)
    marker = make_body_marker(runtime.config.security.secret, "VND-1")
    body = f"New detail.\n\nOn Monday Vendor Ltd wrote:\n> We opened your request.\n> {marker}\n"
    deliver(runtime, mail(subject="Re: your request", text=body))
    assert len(ticket(runtime, "VND-1").messages) == 2


def test_forged_body_marker_is_ignored(runtime) -> None:
    _open_vnd1(runtime)
    deliver(runtime, mail(subject="Re: your request", text="x\n> [ref:VND-1:0123456789abcdef]\n"))
    assert len(ticket(runtime, "VND-1").messages) == 1


def test_only_the_first_and_last_references_are_trusted(runtime) -> None:
    _open_vnd1(runtime)
    middle = " ".join(f"<noise{i}@x.example>" for i in range(30))
    deliver(runtime, mail(subject="unrelated", references=f"<a@x.example> {middle[:400]} <first@client.example>"))
    assert len(ticket(runtime, "VND-1").messages) == 2
    buried = " ".join([f"<head{i}@x.example>" for i in range(6)] + ["<first@client.example>"]
                      + [f"<tail{i}@x.example>" for i in range(6)])
    deliver(runtime, mail(subject="unrelated again", references=buried))
    assert ticket(runtime, "VND-2").subject == "unrelated again"


def test_tokens_are_lower_case_safe_and_unforgeable(runtime) -> None:
    token = make_reply_token(runtime.config.security.secret, 1, 1)
    assert token == token.lower() and token != make_reply_token("another-secret-of-16+", 1, 1)


def test_list_mail_opens_an_unanswered_ticket_but_never_an_ack(runtime) -> None:
    _, out = deliver(runtime, mail(sender="it-team@client.example", subject="Printers down",
                                   headers={"List-Id": "<it-team.client.example>"}))
    assert ticket(runtime, "VND-1").messages[0].visibility == "auto"
    assert out == [] and outbox(runtime) == []


def test_another_accounts_message_ids_do_not_thread(runtime) -> None:
    ack = _open_vnd1(runtime)
    deliver(runtime, mail(to="service@partner.example", subject="Re: Printer", in_reply_to=ack["Message-ID"],
                          references=f"<first@client.example> {ack['Message-ID']}"),
            rcpt=["service@partner.example"])
    assert len(ticket(runtime, "VND-1").messages) == 1
    assert ticket(runtime, "PTN-1").subject == "Re: Printer"

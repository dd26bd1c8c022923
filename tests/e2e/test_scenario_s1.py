"""S1 — a customer's mail becomes a ticket, replies thread (scenarios/README.md)."""

from __future__ import annotations

import hashlib

from tests.e2e.harness import Installation, mails_to
from tests.e2e.mail_clients import PDF, new_mail, reply
from tests.e2e.people import ALICE, MALLORY, VENDOR
from tests.e2e.steps import SUBJECT, alice_writes


def test_s1_mail_becomes_ticket_and_replies_thread(desk: Installation) -> None:
    _, ack = alice_writes(desk)
    assert "[VND-1]" in str(ack["Subject"])
    assert ack["Auto-Submitted"] == "auto-replied"

    tickets = desk.tickets()
    assert [(t["ref"], t["account"], t["status"]) for t in tickets] == [("VND-1", "vendor", "new")]
    ticket = desk.show("VND-1")
    assert ticket["requester"]["email"] == ALICE.email
    assert ticket["subject"] == SUBJECT
    [first] = ticket["messages"]
    assert (first["direction"], first["visibility"], first["from"]) == ("in", "public", ALICE.email)
    assert [(a["filename"], a["sha256"]) for a in first["attachments"]] == [
        ("jam-report.pdf", hashlib.sha256(PDF).hexdigest())
    ]

    # S1.2: alice answers the acknowledgement from Gmail, quoting it
    sent_before = len(desk.sink.mails)
    desk.send(reply(ack, ALICE, "It also happens on tray 1", client="gmail"))
    desk.settle()
    ticket = desk.show("VND-1")
    assert len(ticket["messages"]) == 2
    assert ticket["messages"][1]["text"] == "It also happens on tray 1"
    assert len(desk.tickets()) == 1

    # S1.3: a fresh mail, no references, the tag in the subject
    desk.send(new_mail(ALICE, [VENDOR], "Update [VND-1] printer", "The technician can come any morning."))
    desk.settle()
    ticket = desk.show("VND-1")
    assert len(ticket["messages"]) == 3 and len(desk.tickets()) == 1
    assert ticket["messages"][2]["text"] == "The technician can come any morning."

    # S1.4: a stranger uses the tag: kept internal, flagged, nobody told
    desk.send(new_mail(MALLORY, [VENDOR], "Re: [VND-1] Printer", "Please send the invoice to my account instead."))
    desk.settle()
    ticket = desk.show("VND-1")
    assert len(desk.tickets()) == 1
    mallorys = [m for m in ticket["messages"] if m["from"] == MALLORY.email]
    assert len(mallorys) == 1
    assert mallorys[0]["visibility"] == "internal"
    assert mallorys[0].get("unverified") is True, "show --json does not flag the unverified sender"
    later = desk.sink.mails[sent_before:]
    assert mails_to(later, ALICE.email) == [] and mails_to(later, MALLORY.email) == []
    assert desk.inbox_problems() == []

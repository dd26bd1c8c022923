"""Tenant isolation, end to end: what must never cross a ticket's or an account's boundary.

- a partner never receives the parent's internal notes or the customer's correspondence;
- a forged token, another account's token, another account's subject tag and a
  command from someone who is not an agent change nothing and leak nothing.
"""

from __future__ import annotations

import json
import re

from tests.e2e.harness import Installation, mails_to
from tests.e2e.mail_clients import body_text, new_mail, parse, reply
from tests.e2e.people import ALICE, DANA, MALLORY, PARTNER, PAUL, VENDOR
from tests.e2e.steps import alice_writes, dana_hands_to_partner, no_mail_to

SECRET_NOTE = "Customer is on credit hold, do not promise anything."
ALICE_PRIVATE = "My direct line is +1 555 0100, please do not share it."


def snapshot(desk: Installation, *refs: str) -> dict[str, tuple]:
    """What a change would show: status, message count, links."""
    out = {}
    for ref in refs:
        ticket = desk.show(ref)
        out[ref] = (ticket["status"], len(ticket["messages"]), json.dumps(ticket["links"], sort_keys=True))
    return out


def leaked_to(desk: Installation, address: str, since: int) -> list[str]:
    """Mails to `address` since `since` that carry any of VND-1's private content."""
    private = (ALICE.email, "tray 2 every morning", SECRET_NOTE, ALICE_PRIVATE)
    found = []
    for sunk in mails_to(desk.sink.mails[since:], address):
        text = sunk.raw.decode("utf-8", "replace")
        found += [p for p in private if p in text or p in body_text(parse(sunk.raw))]
    return found


def test_partner_gets_neither_internal_notes_nor_customer_mail(desk: Installation) -> None:
    alices_mail, ack = alice_writes(desk)
    dana_hands_to_partner(desk, alices_mail)
    since = len(desk.sink.mails)
    desk.send(new_mail(DANA, [VENDOR], "Note [VND-1]", f"#internal\n{SECRET_NOTE}"))
    desk.send(reply(ack, ALICE, ALICE_PRIVATE, client="gmail"))
    desk.settle()
    vnd = desk.show("VND-1")
    assert [m["visibility"] for m in vnd["messages"] if SECRET_NOTE in m["text"]] == ["internal"]
    assert [m["visibility"] for m in vnd["messages"] if ALICE_PRIVATE in m["text"]] == ["public"]
    ptn_texts = " ".join(m["text"] for m in desk.show("PTN-1")["messages"])
    assert SECRET_NOTE not in ptn_texts and ALICE_PRIVATE not in ptn_texts
    no_mail_to(desk, PAUL.email, since)
    # the handoff notice carries T's description and contact by design; never the note or later correspondence
    assert {SECRET_NOTE, ALICE_PRIVATE} & set(leaked_to(desk, PAUL.email, 0)) == set()
    assert SECRET_NOTE not in leaked_to(desk, ALICE.email, 0), "an internal note reached the customer"


def _token_of(address: str) -> str:
    found = re.search(r"\+([^@]+)@", address)
    assert found, f"no reply token in {address!r}"
    return found.group(1)


def test_forged_and_foreign_tokens_and_tags_touch_nothing(desk: Installation) -> None:
    alices_mail, ack = alice_writes(desk)
    paul_notice = dana_hands_to_partner(desk, alices_mail)
    alice_token = _token_of(str(ack["Reply-To"]))
    paul_token = _token_of(str(paul_notice["Reply-To"]))
    before = snapshot(desk, "VND-1", "PTN-1")
    since = len(desk.sink.mails)

    forged = alice_token[:-1] + ("A" if alice_token[-1] != "A" else "B")
    desk.send(new_mail(MALLORY, [f"support+{forged}@vendor.example"], "Re: your request", "Forged token."))
    desk.send(new_mail(MALLORY, [f"support+{paul_token}@vendor.example"], "Re: your request", "Foreign token."))
    desk.send(new_mail(MALLORY, [VENDOR], "Re: [PTN-1] status?", "A partner's tag at the vendor."))
    desk.send(new_mail(MALLORY, [PARTNER], "Re: [VND-1] status?", "The vendor's tag at the partner."))
    desk.settle()

    assert snapshot(desk, "VND-1", "PTN-1") == before
    for ticket in desk.tickets():
        if ticket["ref"] in ("VND-1", "PTN-1"):
            continue
        shown = desk.show(ticket["ref"])
        assert shown["requester"]["email"] == MALLORY.email and shown["parent"] is None, ticket
    no_mail_to(desk, ALICE.email, since)
    no_mail_to(desk, PAUL.email, since)
    assert leaked_to(desk, MALLORY.email, since) == []


def test_commands_from_non_agents_change_nothing(desk: Installation) -> None:
    alices_mail, ack = alice_writes(desk)
    paul_notice = dana_hands_to_partner(desk, alices_mail)
    before = snapshot(desk, "VND-1", "PTN-1")
    since = len(desk.sink.mails)

    desk.send(reply(ack, ALICE, "#status closed\nPlease close it.", client="gmail"))  # the customer
    desk.send(new_mail(MALLORY, [VENDOR], "Re: [VND-1] Printer", "#status resolved\n#handoff fixit"))  # a stranger
    desk.send(reply(paul_notice, PAUL, "#rate 5 great partner", client="thunderbird"))  # rating oneself
    desk.settle()

    after = snapshot(desk, "VND-1", "PTN-1")
    assert after["VND-1"][0] == before["VND-1"][0] and after["VND-1"][2] == before["VND-1"][2]
    assert after["PTN-1"][0] == before["PTN-1"][0] and after["PTN-1"][2] == before["PTN-1"][2]
    assert [t["ref"] for t in desk.tickets()] == ["VND-1", "PTN-1"], "a refused #handoff opened a ticket"
    assert len(mails_to(desk.sink.mails[since:], ALICE.email)) <= 1, "at most one error reply to the customer"
    assert len(mails_to(desk.sink.mails[since:], MALLORY.email)) <= 1
    assert leaked_to(desk, MALLORY.email, since) == []

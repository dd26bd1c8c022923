"""S2 — handoff by forward, mirrored reply, rating (scenarios/README.md)."""

from __future__ import annotations

import hashlib
import json

from tests.e2e.harness import Installation, mails_to
from tests.e2e.mail_clients import PDF, body_text, parse, reply
from tests.e2e.people import ALICE, DANA, PAUL, VENDOR
from tests.e2e.steps import (
    DANA_NOTE,
    alice_writes,
    dana_hands_to_partner,
    no_mail_to,
    only_mail_to,
)

PAUL_SIGNATURE = "-- \nPaul Partner\nPartner GmbH, Field Service\n+49 40 555 0100"


def assert_clean_relay(mail, text: str, answered_marker: str) -> None:
    """A relayed update carries the text, not the partner's quote or signature."""
    body = body_text(mail)
    assert text in body
    assert answered_marker not in body, "the partner's quote of the mail he answered was relayed"
    assert "+49 40 555 0100" not in body, "the partner's signature was relayed"
    assert not any(line.startswith(">") for line in body.splitlines()), "quoted lines were relayed"


def test_s2_handoff_mirror_resolve_rate(desk: Installation) -> None:
    alices_mail, ack = alice_writes(desk)

    notice = dana_hands_to_partner(desk, alices_mail)
    assert "[PTN-1]" in str(notice["Subject"])
    tickets = {t["ref"]: t for t in desk.tickets()}
    assert set(tickets) == {"VND-1", "PTN-1"}, "the handoff must be one child ticket, not also a new request"
    assert tickets["PTN-1"]["account"] == "partner" and tickets["PTN-1"]["parent"] == "VND-1"
    ptn = desk.show("PTN-1")
    assert ptn["parent"] == "VND-1"
    assert ALICE.email in json.dumps(ptn), "the child must carry the customer's contact"
    assert any(DANA_NOTE in m["text"] for m in ptn["messages"]), "the dispatcher's note must be on the child"
    pdf = hashlib.sha256(PDF).hexdigest()
    assert any(a["sha256"] == pdf for m in ptn["messages"] for a in m["attachments"]), "the PDF must be on the child"
    vnd = desk.show("VND-1")
    assert vnd["children"] == ["PTN-1"]
    assert [(c["ref"], c["depth"]) for c in vnd["chain"]] == [("VND-1", 0), ("PTN-1", 1)]
    assert [(l["parent"], l["child"], l["state"]) for l in vnd["links"]] == [("VND-1", "PTN-1", "handed_off")]

    # S2.3: paul answers the mail he received, Thunderbird-style
    since = len(desk.sink.mails)
    booked = "Technician booked for Tuesday 10:00"
    desk.send(reply(notice, PAUL, booked, client="thunderbird", signature=PAUL_SIGNATURE))
    desk.settle()
    ptn = desk.show("PTN-1")
    assert [m["visibility"] for m in ptn["messages"] if m["text"] == booked] == ["public"]
    assert [m["from"] for m in ptn["messages"] if m["text"] == booked] == [PAUL.email]
    vnd = desk.show("VND-1")
    assert [m["visibility"] for m in vnd["messages"] if m["text"] == booked] == ["partner"]
    assert vnd["links"][0]["state"] == "accepted"
    to_alice = only_mail_to(desk, ALICE.email, since)
    assert VENDOR in str(to_alice["From"]) and "[VND-1]" in str(to_alice["Subject"])
    thread = str(to_alice.get("References", "")) + " " + str(to_alice.get("In-Reply-To", ""))
    assert alices_mail.message_id in thread or str(ack["Message-ID"]) in thread, "not threaded to alice's conversation"
    assert_clean_relay(to_alice, booked, "wrote:")
    no_mail_to(desk, PAUL.email, since)

    # S2.4: paul resolves with a command and a last word
    since = len(desk.sink.mails)
    roller = "Replaced the pickup roller."
    desk.send(reply(notice, PAUL, f"#status resolved\n{roller}", client="thunderbird", signature=PAUL_SIGNATURE))
    desk.settle()
    assert desk.show("PTN-1")["status"] == "resolved"
    vnd = desk.show("VND-1")
    assert vnd["links"][0]["state"] == "resolved"
    assert vnd["status"] not in ("resolved", "closed"), "the parent stays with the vendor"
    to_dana = [parse(m.raw) for m in mails_to(desk.sink.mails[since:], DANA.email)]
    requests = [m for m in to_dana if "#rate" in body_text(m)]
    assert len(requests) == 1, "dana must be asked to rate, once"
    rating_request = requests[0]
    to_alice = only_mail_to(desk, ALICE.email, since)
    assert roller in body_text(to_alice) and "#status" not in body_text(to_alice)
    no_mail_to(desk, PAUL.email, since)

    # S2.5: dana rates by replying to the rating request
    since = len(desk.sink.mails)
    desk.send(reply(rating_request, DANA, "#rate 4 quick, but no call ahead", client="outlook"))
    desk.settle()
    [link] = desk.show("VND-1")["links"]
    assert (link["state"], link["rating"], link["rating_comment"]) == ("rated", 4, "quick, but no call ahead")
    no_mail_to(desk, ALICE.email, since)
    chain = desk.chain("VND-1")
    [ptn_timing] = [t for t in chain["tickets"] if t["ref"] == "PTN-1"]
    assert ptn_timing["link"]["state"] == "rated" and ptn_timing["link"]["rating"] == 4
    assert ptn_timing["link"]["time_to_accept_seconds"] >= 0
    assert ptn_timing["link"]["time_to_resolve_seconds"] >= ptn_timing["link"]["time_to_accept_seconds"]
    assert desk.inbox_problems() == []
    # checked last so the rating steps above still run when it fails
    assert len(to_dana) == 1, (
        f"one mail per recipient per update: dana got {len(to_dana)} for paul's resolution "
        "(the rating request and, separately, the relayed text)"
    )

"""S3 — a three-level chain with an external contractor (scenarios/README.md)."""

from __future__ import annotations

from tests.e2e.harness import Installation
from tests.e2e.mail_clients import GERMAN_SIGNATURE, body_text, parse, reply
from tests.e2e.people import ALICE, SAM
from tests.e2e.steps import (
    alice_writes,
    dana_hands_to_partner,
    no_mail_to,
    only_mail_to,
    paul_hands_to_subco,
)

PART_ORDERED = "Part ordered, arriving Thursday"


def test_s3_three_level_chain_with_external_contractor(desk: Installation) -> None:
    alices_mail, _ = alice_writes(desk)
    notice = dana_hands_to_partner(desk, alices_mail)
    chain_starts = len(desk.sink.mails)

    paul_forward, sam_notice = paul_hands_to_subco(desk, notice)
    tickets = {t["ref"]: t for t in desk.tickets()}
    assert set(tickets) == {"VND-1", "PTN-1", "SUB-1"}
    assert tickets["SUB-1"]["account"] == "subco" and tickets["SUB-1"]["parent"] == "PTN-1"
    assert [(l["parent"], l["child"], l["state"]) for l in desk.show("PTN-1")["links"]
            if l["child"] == "SUB-1"] == [("PTN-1", "SUB-1", "handed_off")]
    reply_to = str(sam_notice["Reply-To"])
    assert "+" in reply_to, f"the notice's Reply-To carries no token: {reply_to}"
    assert paul_forward.message_id in str(sam_notice["In-Reply-To"]) + str(sam_notice.get("References", "")), \
        "the handoff notice does not thread with paul's forward"

    # S3.3: sam answers from Apple Mail, German signature
    since = len(desk.sink.mails)
    desk.send(reply(sam_notice, SAM, PART_ORDERED, client="apple", signature=GERMAN_SIGNATURE))
    desk.settle()
    sub, ptn, vnd = desk.show("SUB-1"), desk.show("PTN-1"), desk.show("VND-1")
    assert [(m["visibility"], m["from"]) for m in sub["messages"] if m["text"] == PART_ORDERED] == [("public", SAM.email)]
    assert [m["visibility"] for m in ptn["messages"] if PART_ORDERED in m["text"]] == ["partner"]
    assert [m["visibility"] for m in vnd["messages"] if PART_ORDERED in m["text"]] == ["partner"]
    assert not any("Grüßen" in m["text"] for t in (sub, ptn, vnd) for m in t["messages"]), "signature kept in text"
    to_alice = only_mail_to(desk, ALICE.email, since)
    assert PART_ORDERED in body_text(to_alice) and "Grüßen" not in body_text(to_alice)
    no_mail_to(desk, SAM.email, since)

    # S3.4: every mail since the chain grew to three shows all three refs with their statuses
    for sunk in desk.sink.mails[chain_starts:]:
        mail = parse(sunk.raw)
        text, chain = body_text(mail), str(mail.get("X-Relaydesk-Chain", ""))
        for ref, account in (("VND-1", "Vendor Ltd"), ("PTN-1", "Partner GmbH"), ("SUB-1", "Subco Field Service")):
            assert f"{ref} ({account}, " in text, f"{mail['Subject']!s} to {sunk.rcpt_tos}: no chain line with {ref}"
            assert f"{ref}=" in chain, f"{mail['Subject']!s}: X-Relaydesk-Chain {chain!r} lacks {ref}"
    assert desk.inbox_problems() == []

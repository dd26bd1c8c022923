"""A four-level chain: vendor → partner → second hosted partner → external contractor.

The bottom contractor's reply travels up every hop to the end customer, and
its `#status resolved` shows in the chain of every ticket.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import DEMO_TOML
from tests.e2e.harness import Installation, add_account
from tests.e2e.mail_clients import GERMAN_SIGNATURE, Person, body_text, forward, reply
from tests.e2e.people import ALICE, SAM
from tests.e2e.steps import (
    alice_writes,
    dana_hands_to_partner,
    deliver_per_domain,
    no_mail_to,
    only_mail_to,
)

RITA = Person("Rita Regional", "rita@regional.example")
REGIONAL = "service@regional.example"
REGIONAL_ACCOUNT = f"""
slug = "regional"
name = "Regional Service AG"
prefix = "REG"
addresses = ["{REGIONAL}"]
agents = [ {{ name = "{RITA.name}", email = "{RITA.email}" }} ]
partners = ["subco"]
relay_partner_replies = "requester"
"""
REFS = ["VND-1", "PTN-1", "REG-1", "SUB-1"]


def four_level_config() -> str:
    """demo.toml, with partner handing to a second hosted partner that uses subco."""
    text = DEMO_TOML.read_text(encoding="utf-8")
    partner_block = 'prefix = "PTN"'
    head, _, tail = text.partition(partner_block)
    tail = tail.replace('partners = ["subco"]', 'partners = ["subco", "regional"]', 1)
    return add_account(head + partner_block + tail, REGIONAL_ACCOUNT)


@pytest.fixture
def chain_desk(tmp_path: Path) -> Iterator[Installation]:
    with Installation.demo(tmp_path / "desk", four_level_config()) as installation:
        yield installation


def test_bottom_reply_reaches_the_customer_and_status_shows_everywhere(chain_desk: Installation) -> None:
    desk = chain_desk
    alices_mail, _ = alice_writes(desk)
    paul_notice = dana_hands_to_partner(desk, alices_mail)

    since = len(desk.sink.mails)
    deliver_per_domain(desk, forward(paul_notice, Person("Paul Partner", "paul@partner.example"), [REGIONAL],
                                     "Rita, your region. Paul", cc=["service@partner.example"]))
    desk.settle()
    rita_notice = only_mail_to(desk, RITA.email, since)
    assert "[REG-1]" in str(rita_notice["Subject"])

    since = len(desk.sink.mails)
    deliver_per_domain(desk, forward(rita_notice, RITA, [SAM.email], "Sam, bitte übernehmen. Rita", cc=[REGIONAL]))
    desk.settle()
    sam_notice = only_mail_to(desk, SAM.email, since)
    tickets = {t["ref"]: t for t in desk.tickets()}
    assert sorted(tickets) == sorted(REFS)
    assert [tickets[r]["parent"] for r in REFS] == [None, "VND-1", "PTN-1", "REG-1"]
    assert [(c["ref"], c["depth"]) for c in desk.show("SUB-1")["chain"]] == [(r, i) for i, r in enumerate(REFS)]

    since = len(desk.sink.mails)
    update = "Ersatzteil bestellt, Einbau am Donnerstag."
    desk.send(reply(sam_notice, SAM, update, client="apple", signature=GERMAN_SIGNATURE))
    desk.settle()
    to_alice = only_mail_to(desk, ALICE.email, since)
    assert update in body_text(to_alice) and "Grüßen" not in body_text(to_alice)
    no_mail_to(desk, SAM.email, since)
    for ref in REFS:
        texts = [m["text"] for m in desk.show(ref)["messages"]]
        assert sum(update in t for t in texts) == 1, f"{ref} holds the update {sum(update in t for t in texts)} times"

    desk.send(reply(sam_notice, SAM, "#status resolved\nEingebaut, Drucker läuft.", client="apple",
                    signature=GERMAN_SIGNATURE))
    desk.settle()
    for ref in REFS:
        chain = {c["ref"]: c["status"] for c in desk.show(ref)["chain"]}
        assert chain["SUB-1"] == "resolved", f"the chain of {ref} shows SUB-1 as {chain['SUB-1']}"
    regional_links = [l for l in desk.show("REG-1")["links"] if l["child"] == "SUB-1"]
    assert [l["state"] for l in regional_links] == ["resolved"]
    timings = desk.chain("VND-1")
    assert [t["ref"] for t in timings["tickets"]] == REFS
    assert timings["tickets"][3]["link"]["time_to_resolve_seconds"] is not None
    assert desk.inbox_problems() == []

"""Handoff detection as a pure decision over config and the parsed mail."""

from __future__ import annotations

import pytest

from gateway.core.config import parse_config
from gateway.flows.handoff_detection import detect_handoff
from gateway.flows.rejections import UnknownPartner
from parsers import parse_message
from tests.conftest import demo_config
from tests.flows import mails
from tests.flows.world import ALICE, DANA


def forward(to: list[str], cc: list[str] = (), commands: str = ""):
    return parse_message(mails.outlook_forward(
        sender=DANA, to=to, cc=list(cc), note="Please help.", original_from=ALICE,
        original_subject="Printer jams on tray 2", original_text="Hello", commands=commands,
    ))


@pytest.fixture
def config(tmp_path):
    return demo_config(tmp_path)


def test_a_forward_to_a_declared_partner_is_a_handoff(config) -> None:
    intent = detect_handoff(forward(["service@partner.example"], ["support@vendor.example"]),
                            config.account("vendor"), config)
    assert (intent.partner.slug, intent.address, intent.note, intent.by_command) == (
        "partner", "service@partner.example", "Please help.", False)


def test_a_partner_agent_or_a_bcc_recipient_counts_too(config) -> None:
    vendor = config.account("vendor")
    assert detect_handoff(forward(["paul@partner.example"]), vendor, config).partner.slug == "partner"
    bcc = detect_handoff(forward(["someone@else.example"]), vendor, config, envelope_rcpts=["jobs@fixit.example"])
    assert bcc.partner.slug == "fixit"


def test_a_forward_to_anyone_else_is_not_a_handoff(config) -> None:
    vendor = config.account("vendor")
    assert detect_handoff(forward(["colleague@vendor.example"]), vendor, config) is None
    assert detect_handoff(forward(["sam@subco.example"]), vendor, config) is None  # not vendor's partner
    plain = parse_message(mails.plain(sender=DANA, to=["service@partner.example"], subject="Hi", text="Hello"))
    assert detect_handoff(plain, vendor, config) is None


def test_external_handoff_needs_the_account_setting_and_skips_participants(tmp_path) -> None:
    config = demo_config(tmp_path)
    data = config.model_dump()
    next(a for a in data["accounts"] if a["slug"] == "vendor")["allow_external_handoff"] = True
    allowed = parse_config(data)
    vendor = allowed.account("vendor")
    assert detect_handoff(forward(["sam@subco.example"]), vendor, allowed).partner.slug == "subco"
    assert detect_handoff(forward(["sam@subco.example"]), vendor, allowed, participants=["sam@subco.example"]) is None


def test_the_handoff_command_names_the_partner(config) -> None:
    vendor = config.account("vendor")
    intent = detect_handoff(forward(["support@vendor.example"], commands="#handoff fixit today please\n\n"),
                            vendor, config)
    assert (intent.partner.slug, intent.address, intent.by_command) == ("fixit", "jobs@fixit.example", True)
    assert intent.note == "today please\n\nPlease help."
    with pytest.raises(UnknownPartner):
        detect_handoff(forward(["support@vendor.example"], commands="#handoff subco\n\n"), vendor, config)


def test_external_handoff_to_an_address_nobody_configured(tmp_path) -> None:
    data = demo_config(tmp_path).model_dump()
    next(a for a in data["accounts"] if a["slug"] == "vendor")["allow_external_handoff"] = True
    allowed = parse_config(data)
    vendor = allowed.account("vendor")

    firm = detect_handoff(forward(["bob@plumbing.example"]), vendor, allowed)
    assert (firm.adhoc, firm.partner.slug, firm.partner.kind, firm.partner.domains, firm.address) == (
        True, "ext-plumbing-example", "external", ("plumbing.example",), "bob@plumbing.example")
    person = detect_handoff(forward(["carol@gmail.com"]), vendor, allowed).partner
    assert (person.slug, person.addresses, person.domains) == ("ext-carol-gmail-com", ("carol@gmail.com",), ())
    assert detect_handoff(forward(["service@partner.example"]), vendor, allowed).partner.slug == "partner"
    assert detect_handoff(forward(["pat@partner.example"]), vendor, allowed) is None  # at a hosted account
    assert detect_handoff(forward(["new.hire@vendor.example"]), vendor, allowed) is None  # a colleague
    assert detect_handoff(forward(["boss@client.example"]), vendor, allowed,
                          participants=["alice@client.example"]) is None  # the customer's company
    data["accounts"][0]["agents"] = [*data["accounts"][0]["agents"], {"name": "Gil", "email": "gil.vendor@gmail.com"}]
    on_gmail = parse_config(data)
    assert detect_handoff(forward(["carol@gmail.com"]), on_gmail.account("vendor"), on_gmail).adhoc
    assert detect_handoff(forward(["gil.vendor@gmail.com"]), on_gmail.account("vendor"), on_gmail) is None
    closed = demo_config(tmp_path)
    assert detect_handoff(forward(["bob@plumbing.example"]), closed.account("vendor"), closed) is None

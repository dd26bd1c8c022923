"""Loop guards: hop limit, our own mail coming back, automatic mail, own addresses, mirror cap."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.core.config import Config
from gateway.core.runtime import Runtime
from gateway.core.tokens import make_verp_address
from gateway.desk.tickets import NewMessage, add_message, open_ticket
from gateway.outbound import loop_guard
from parsers import parse_message
from parsers.message import ParsedMessage
from storage.models import Account, utcnow
from tests.conftest import TEST_SECRET, demo_config


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return demo_config(tmp_path, outbound={"message_id_domain": "mail.relaydesk.test", "mirror_cap_per_minute": 3,
                                           "bounce_address": "bounces@vendor.example"},
                       security={"max_hops": 4})


def mail(*headers: str) -> ParsedMessage:
    head = "\r\n".join(("From: alice@client.example", "To: support@vendor.example", "Subject: hello", *headers))
    return parse_message(f"{head}\r\n\r\nHello there\r\n".encode())


def test_hop_counter(config: Config) -> None:
    assert loop_guard.hop_count(mail()) == 0
    assert loop_guard.hop_count(mail("X-Relaydesk-Hops: 2")) == 2
    assert not loop_guard.over_hop_limit(mail("X-Relaydesk-Hops: 3"), config)
    looping = mail("X-Relaydesk-Hops: 4")
    assert loop_guard.over_hop_limit(looping, config)
    assert not loop_guard.may_auto_answer(looping, config)


def test_our_own_message_id_coming_back(config: Config) -> None:
    returned = mail("Message-ID: <abc123@mail.relaydesk.test>")
    assert loop_guard.came_back(returned, config)
    assert not loop_guard.may_auto_answer(returned, config)
    assert not loop_guard.came_back(mail("Message-ID: <abc123@client.example>"), config)


@pytest.mark.parametrize("header", ["Auto-Submitted: auto-replied", "Precedence: bulk", "List-Id: <staff.client.example>"])
def test_no_automatic_answer_to_automatic_mail(config: Config, header: str) -> None:
    parsed = mail(header)
    assert loop_guard.is_automatic(parsed)
    assert not loop_guard.may_auto_answer(parsed, config)


def test_a_person_may_be_answered(config: Config) -> None:
    assert loop_guard.may_auto_answer(mail("Message-ID: <1@client.example>"), config)


@pytest.mark.parametrize("address, own", [
    ("support@vendor.example", True),
    ("Support+r1-2-0123456789abcdef@Vendor.Example", True),
    ("bounces+17-0123456789abcdef@vendor.example", True),
    ("anything@mail.relaydesk.test", True),
    (make_verp_address(TEST_SECRET, "bounces@partner.example", 9), True),
    ("bounces+9-0123456789abcdef@partner.example", False),  # a forged VERP address is nobody's
    ("alice@client.example", False),
    ("sam@subco.example", False),  # an external account's address is a real person elsewhere
])
def test_own_addresses(config: Config, address: str, own: bool) -> None:
    assert loop_guard.is_own_address(address, config) is own


def test_mirror_cap_per_ticket_per_minute(sqlite_runtime: Runtime) -> None:
    config = sqlite_runtime.config.model_copy(
        update={"outbound": sqlite_runtime.config.outbound.model_copy(update={"mirror_cap_per_minute": 3})})
    with sqlite_runtime.db.transaction() as session:
        vendor = session.scalar(select(Account).where(Account.slug == "vendor"))
        ticket = open_ticket(session, vendor, "Till broken")
        for n in range(3):
            assert not loop_guard.mirror_cap_reached(session, ticket.id, config)
            add_message(session, ticket, NewMessage(source_key=f"mirror:{n}", direction="in", visibility="partner",
                                                    channel="mirror", sender=None, text=f"update {n}"))
        session.flush()
        assert loop_guard.mirror_cap_reached(session, ticket.id, config)
        assert not loop_guard.mirror_cap_reached(session, ticket.id, config, now=utcnow() + timedelta(minutes=2))

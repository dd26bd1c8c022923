"""Recipient and sender decisions of the SMTP listener, without a socket."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.channels.smtp_policy import RecipientPolicy
from tests.conftest import demo_config


@pytest.fixture(scope="module")
def policy(tmp_path_factory: pytest.TempPathFactory) -> RecipientPolicy:
    config = demo_config(Path(tmp_path_factory.mktemp("policy")), outbound={"bounce_address": "bounces@relay.example"})
    return RecipientPolicy(config)


@pytest.mark.parametrize("address", [
    "support@vendor.example", "SUPPORT@Vendor.Example", "support+r1-2-0123456789abcdef@vendor.example",
    "service@partner.example", "bounces@relay.example", "bounces+12-0123456789abcdef@relay.example",
])
def test_accepts_hosted_mailboxes_their_plus_forms_and_the_bounce_mailbox(policy: RecipientPolicy, address: str) -> None:
    assert policy.accepts(address)


@pytest.mark.parametrize("address", [
    "sam@subco.example",  # an external account's address: we do not receive for it
    "jobs@fixit.example", "support@vendor.example.attacker.example", "support@vendor", "support",
    "supportx@vendor.example", "other@vendor.example", "", "@vendor.example",
])
def test_refuses_everything_else(policy: RecipientPolicy, address: str) -> None:
    assert not policy.accepts(address)


@given(st.emails())
def test_never_an_open_relay(policy: RecipientPolicy, address: str) -> None:
    local, _, domain = address.rpartition("@")
    if domain.lower() not in {"vendor.example", "partner.example", "relay.example"}:
        assert not policy.accepts(address)

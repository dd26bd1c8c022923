"""security.require_dkim_for_commands: agents' commands and handoffs need a DKIM/SPF pass from a trusted MTA."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.core.runtime import Runtime
from storage.models import Ticket
from tests.flows import mails
from tests.flows.world import (
    DANA,
    customer_writes,
    dana_forwards_to_partner,
    outbox,
    ticket,
)
from tests.pipeline.mail import config_with, deliver

TRUSTED = "mx.vendor.example"
PASS = f"{TRUSTED}; dkim=pass header.d=vendor.example; spf=pass smtp.mailfrom=dana@vendor.example"


@pytest.fixture
def strict(tmp_path: Path) -> Iterator[Runtime]:
    security = {"secret": "test-secret-not-for-production", "trusted_authserv_ids": [TRUSTED],
                "require_dkim_for_commands": True}
    runtime = Runtime.open(config_with(tmp_path, security=security))
    customer_writes(runtime)
    try:
        yield runtime
    finally:
        runtime.close()


def dana_writes(runtime: Runtime, text: str, *results: str) -> None:
    raw = mails.plain(sender=DANA, to=["support@vendor.example"], subject="Re: [VND-1] Printer jams on tray 2",
                      text=text)
    fields = b"".join(f"Authentication-Results: {value}\r\n".encode() for value in results)
    deliver(runtime, fields + raw)


def test_a_verified_agent_command_applies(strict: Runtime) -> None:
    dana_writes(strict, "#status pending\n\nWaiting for the part.", PASS)
    assert ticket(strict, "VND-1").status == "pending"


@pytest.mark.parametrize("results", [
    (),  # no verdict at all
    ("mx.elsewhere.example; dkim=pass header.d=vendor.example",),  # a verdict from an MTA we do not trust
    (f"{TRUSTED}; dkim=pass header.d=attacker.example; spf=fail smtp.mailfrom=dana@vendor.example",),
    (f"{TRUSTED}; dkim=fail header.d=vendor.example", PASS),  # a forged pass below our MTA's own fail
])
def test_an_unverified_agent_command_is_kept_not_applied(strict: Runtime, results: tuple[str, ...]) -> None:
    before = len(outbox(strict))
    dana_writes(strict, "#status resolved\n\nAll done.", *results)
    vnd = ticket(strict, "VND-1")
    assert vnd.status == "new"
    assert vnd.messages[-1].visibility == "internal"
    [reply] = [o for o in outbox(strict)[before:] if o.recipient == "dana@vendor.example"]
    assert (reply.kind, reply.payload["reason"]) == ("error", "sender_not_verified")


def test_an_unverified_handoff_opens_no_child(strict: Runtime) -> None:
    dana_forwards_to_partner(strict, rcpt=["support@vendor.example"])  # the gateway's copy carries no verdict
    dana_writes(strict, "#handoff partner Please send a technician.")
    assert [t.ref for t in _tickets(strict)] == ["VND-1"]
    dana_writes(strict, "#handoff partner Please send a technician.", PASS)
    assert [t.ref for t in _tickets(strict)] == ["VND-1", "PTN-1"]


def _tickets(runtime: Runtime) -> list[Ticket]:
    with runtime.db.transaction() as session:
        return session.scalars(select(Ticket).order_by(Ticket.id)).all()

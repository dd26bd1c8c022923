"""The daily digest through the real pipeline and timer sweeper, at a controlled local hour.

Vendor (digest at 08:00 Berlin) has: PTN-1 overdue at Partner, VND-2 and VND-3
waiting on its own agents, and FIX-1 resolved but not rated.  Fixit and Partner
have no digest hour; an account with nothing to say gets no mail.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from gateway.app.timers import on_start
from gateway.core import clock
from gateway.core.runtime import Runtime
from storage.deadline_models import Timer
from storage.models import Agent, Ticket
from tests.flows import mails
from tests.flows.world import (
    DANA,
    answer,
    body_of,
    customer_writes,
    dana_forwards_to_partner,
    deliver,
    new_mail_since,
    only,
    outbox,
    sent_mail,
    sweeper,
    vendor_config,
)

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 3, 2, 9, 0, tzinfo=BERLIN)  # a Monday morning, after the digest hour


@pytest.fixture
def world(db_url: str, tmp_path: Path, manual: clock.ManualClock) -> Iterator[Runtime]:
    manual.set(START.astimezone(timezone.utc))
    config = vendor_config(tmp_path, db_url, digest_hour=8, terms={"timezone": "Europe/Berlin"},
                           partner_terms=[{"partner": "partner", "accept_within": "4h"}])
    with Runtime.open(config) as runtime:
        yield runtime


def sweep(runtime: Runtime):
    return sweeper(runtime).sweep()


def start_worker(runtime: Runtime) -> None:
    with runtime.db.transaction() as session:
        on_start(runtime, session, clock.now())


def tomorrow_at_eight(manual: clock.ManualClock) -> None:
    manual.set(datetime(2026, 3, 3, 8, 0, tzinfo=BERLIN).astimezone(timezone.utc))


def busy_vendor(runtime: Runtime) -> None:
    customer_writes(runtime)  # VND-1
    dana_forwards_to_partner(runtime)  # → PTN-1, 4 h to answer
    deliver(runtime, mails.customer_mail(sender="Bob <bob@client.example>", subject="Scanner offline",
                                         message_id="<b1@client.example>", with_pdf=False))  # VND-2
    raw = mails.plain(sender=DANA, to=["jobs@fixit.example"], cc=["support@vendor.example"],
                      subject="Re: [VND-2] Scanner offline", text="#handoff fixit please have a look")
    deliver(runtime, raw, rcpt=["support@vendor.example"])  # → FIX-1
    notice = only([o for o in outbox(runtime) if o.kind == "handoff" and o.recipient == "jobs@fixit.example"])
    answer(runtime, notice, "FixIt <jobs@fixit.example>", "#status resolved\nScanner replaced.")
    deliver(runtime, mails.customer_mail(sender="Carol <carol@client.example>", subject="Toner empty",
                                         message_id="<c3@client.example>", with_pdf=False))  # VND-3


def test_digest_lists_overdue_waiting_and_unrated_work(world: Runtime, manual: clock.ManualClock) -> None:
    busy_vendor(world)
    start_worker(world)
    before = len(outbox(world))
    tomorrow_at_eight(manual)
    sweep(world)
    digest = only(new_mail_since(world, before, kind="digest"))
    assert digest.recipient == "dana@vendor.example" and digest.ticket_id is None
    body = body_of(world, digest)
    partners, rest = body.split("Waiting on partners (1):")[1].split("Waiting on you (2):")
    ours, to_rate = rest.split("Ratings not yet given (1):")
    assert "PTN-1 Printer jams on tray 2 — Partner GmbH, for VND-1 [OVERDUE" in partners
    # VND-1 is with Partner; VND-2's partner resolved it, so it is the vendor's to finish; VND-3 is new
    assert [line.split()[0] for line in ours.split("\n") if line.strip()] == ["VND-2", "VND-3"]
    assert "FIX-1 resolved by FixIt Repairs: #rate 1-5" in to_rate
    assert "Daily digest 2026-03-03: Vendor Ltd" in str(sent_mail(world, digest)["Subject"])
    assert sent_mail(world, digest)["Auto-Submitted"] == "auto-replied"
    assert [o.recipient for o in new_mail_since(world, before, kind="digest")] == ["dana@vendor.example"]
    with world.db.transaction() as session:  # tomorrow's is scheduled, once
        due = session.scalars(select(Timer.due_at).where(Timer.kind == "digest")).all()
        assert [d.astimezone(BERLIN) for d in due] == [datetime(2026, 3, 4, 8, 0, tzinfo=BERLIN)]
    assert sweep(world).fired == 0  # the same morning again: nothing


def test_nothing_is_sent_for_an_idle_account(world: Runtime, manual: clock.ManualClock) -> None:
    start_worker(world)
    tomorrow_at_eight(manual)
    result = sweep(world)
    assert (result.fired, result.skipped) == (0, 1)
    assert not [o for o in outbox(world) if o.kind == "digest"]


def test_digest_off_and_on_by_mail(world: Runtime, manual: clock.ManualClock) -> None:
    busy_vendor(world)
    start_worker(world)
    tickets_before = _tickets(world)
    deliver(world, mails.plain(sender=DANA, to=["support@vendor.example"], subject="settings", text="#digest off"))
    assert _tickets(world) == tickets_before  # a setting, not a request
    with world.db.transaction() as session:
        assert session.scalar(select(Agent.digest_off).where(Agent.email == "dana@vendor.example")) is True
        assert session.scalars(select(Timer).where(Timer.kind == "digest")).all() == []
    tomorrow_at_eight(manual)
    sweep(world)
    assert not [o for o in outbox(world) if o.kind == "digest"]
    deliver(world, mails.plain(sender=DANA, to=["support@vendor.example"], subject="settings", text="#digest on"))
    manual.advance(days=1)
    sweep(world)
    assert len([o for o in outbox(world) if o.kind == "digest"]) == 1


def _tickets(runtime: Runtime) -> list[str]:
    with runtime.db.transaction() as session:
        return list(session.scalars(select(Ticket.ref).order_by(Ticket.id)))


def test_an_operators_digest_adds_parked_mail_and_failed_deliveries(db_url: str, tmp_path: Path,
                                                                    manual: clock.ManualClock) -> None:
    from storage.models import InboxItem, OutboxItem

    manual.set(START.astimezone(timezone.utc))
    dana = {"name": "Dana Dispatcher", "email": "dana@vendor.example", "operator": True}
    config = vendor_config(tmp_path, db_url, digest_hour=8, terms={"timezone": "Europe/Berlin"}, agents=[dana])
    with Runtime.open(config) as world:
        start_worker(world)
        with world.db.transaction() as session:
            session.add(InboxItem(channel="smtp", dedupe_key="x", raw_sha256="0" * 64, size=1, status="parked",
                                  error="parse: broken MIME", envelope={"mail_from": "weird@client.example"}))
            session.add(OutboxItem(kind="ack", recipient="gone@client.example", envelope_from="", status="failed",
                                   error="550 no such user", created_at=clock.now(), payload={"ref": "VND-9"}))
        tomorrow_at_eight(manual)
        sweep(world)
        body = body_of(world, only([o for o in outbox(world) if o.kind == "digest"]))
    assert "inbox #1 weird@client.example — parse: broken MIME" in body
    assert "VND-9 ack to gone@client.example — 550 no such user" in body

"""External handoff to partners nobody configured (`allow_external_handoff`, SPEC §5)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.core.config import ConfigError, parse_config
from gateway.core.runtime import Runtime
from gateway.desk.adhoc_partners import adhoc_settings, ensure_account
from gateway.desk.reports import partner_report
from storage.models import Account, Link, Ticket
from tests.at_once import run_at_once
from tests.flows import mails
from tests.flows.world import (
    ALICE,
    DANA,
    NOTE,
    ORIGINAL_TEXT,
    answer,
    body_of,
    customer_writes,
    demo_data,
    link_of,
    new_mail_since,
    only,
    outbox,
    sent_mail,
    ticket,
)
from tests.pipeline.mail import deliver

BOB = "Bob Plumber <bob@plumbing.example>"


def open_config(tmp_path: Path, db_url: str | None = None) -> dict:
    """The demo world where vendor may hand tickets to any outside address."""
    data = demo_data(tmp_path, db_url)
    next(a for a in data["accounts"] if a["slug"] == "vendor")["allow_external_handoff"] = True
    return data


@pytest.fixture
def open_world(db_url: str, tmp_path: Path) -> Iterator[Runtime]:
    with Runtime.open(parse_config(open_config(tmp_path, db_url))) as runtime:
        yield runtime


def dana_forwards(runtime: Runtime, to: str, *, subject: str = "Printer jams on tray 2",
                  message_id: str = "<fw1@vendor.example>", cc: list[str] = ()) -> None:
    raw = mails.outlook_forward(
        sender=DANA, to=[to, *cc], cc=["support@vendor.example"], note=NOTE, original_from=ALICE,
        original_subject=subject, original_text=ORIGINAL_TEXT, message_id=message_id,
    )
    deliver(runtime, raw, rcpt=["support@vendor.example"])


def refs_of(runtime: Runtime, slug: str) -> list[str]:
    with runtime.db.transaction() as session:
        return list(session.scalars(select(Ticket.ref).join(Account).where(Account.slug == slug).order_by(Ticket.id)))


def test_a_forward_to_an_unknown_contractor_makes_its_account_and_child(open_world) -> None:
    runtime = open_world
    customer_writes(runtime)
    before = len(outbox(runtime))

    dana_forwards(runtime, "bob@plumbing.example")

    child = ticket(runtime, "EXT1-1")
    assert (child.account.slug, child.account.kind, child.account.name) == (
        "ext-plumbing-example", "external", "plumbing.example")
    assert link_of(runtime, "EXT1-1").parent.ref == "VND-1" and link_of(runtime, "EXT1-1").state == "handed_off"
    assert ("agent", "bob@plumbing.example") in {(p.role, p.email) for p in child.participants}
    notice = only(new_mail_since(runtime, before))
    sent = sent_mail(runtime, notice)
    assert (notice.kind, notice.recipient) == ("handoff", "bob@plumbing.example")
    assert sent["In-Reply-To"] == "<fw1@vendor.example>"
    assert sent["Reply-To"].addresses[0].addr_spec.startswith("support+r")
    assert "[EXT1-1]" in str(sent["Subject"])
    assert "the printer jams on tray 2" in body_of(runtime, notice)

    before = len(outbox(runtime))
    answer(runtime, notice, BOB, "I can come tomorrow at nine.")

    reply = ticket(runtime, "EXT1-1").messages[-1]
    assert (reply.visibility, reply.from_email) == ("public", "bob@plumbing.example")
    [on_parent] = [m for m in ticket(runtime, "VND-1").messages if m.origin_message_id == reply.id]
    assert on_parent.visibility == "partner"
    to_alice = only(new_mail_since(runtime, before, "alice@client.example"))
    assert "I can come tomorrow at nine." in body_of(runtime, to_alice)
    assert "via plumbing.example" in body_of(runtime, to_alice)
    assert not new_mail_since(runtime, before, "bob@plumbing.example")
    assert link_of(runtime, "EXT1-1").state == "accepted"


def test_one_account_per_firm_but_one_per_person_at_public_mail_providers(open_world) -> None:
    runtime = open_world
    for n in (1, 2, 3):
        deliver(runtime, mails.customer_mail(subject=f"Job {n}", message_id=f"<c{n}@client.example>"))
    dana_forwards(runtime, "bob@plumbing.example", subject="Job 1", message_id="<fw1@vendor.example>")
    dana_forwards(runtime, "anna@plumbing.example", subject="Job 2", message_id="<fw2@vendor.example>")
    dana_forwards(runtime, "Carol Fixer <Carol.Fixer@Gmail.com>", subject="Job 3", message_id="<fw3@vendor.example>")

    assert refs_of(runtime, "ext-plumbing-example") == ["EXT1-1", "EXT1-2"]
    assert refs_of(runtime, "ext-carol-fixer-gmail-com") == ["EXT2-1"]
    assert ticket(runtime, "EXT2-1").account.name == "Carol Fixer"
    assert ticket(runtime, "EXT1-2").account.name == "plumbing.example"
    assert [link_of(runtime, ref).parent.ref for ref in ("EXT1-1", "EXT1-2", "EXT2-1")] == ["VND-1", "VND-2", "VND-3"]
    with runtime.db.transaction() as session:
        rows = {row.partner: row.tickets for row in partner_report(session)}
    assert rows["ext-plumbing-example"] == 2 and rows["ext-carol-fixer-gmail-com"] == 1


def test_colleagues_the_customers_company_and_participants_are_never_partners(open_world) -> None:
    """Forwards to them are no handoffs; a forward that did not go to the customer is a note, never relayed."""
    runtime = open_world
    customer_writes(runtime)
    before = len(outbox(runtime))
    dana_forwards(runtime, "colleague@vendor.example", message_id="<fw1@vendor.example>")
    dana_forwards(runtime, "boss@client.example", message_id="<fw2@vendor.example>")
    dana_forwards(runtime, "alice@client.example", message_id="<fw3@vendor.example>")

    assert _links(runtime) == []
    assert [m.visibility for m in ticket(runtime, "VND-1").messages] == ["public", "internal", "internal", "public"]
    assert new_mail_since(runtime, before) == []  # alice had the last one straight from dana


def _links(runtime: Runtime) -> list[Link]:
    with runtime.db.transaction() as session:
        return list(session.scalars(select(Link)))


def test_without_the_setting_an_unknown_address_is_not_a_handoff(runtime) -> None:
    customer_writes(runtime)
    dana_forwards(runtime, "bob@plumbing.example")
    assert _links(runtime) == [] and refs_of(runtime, "ext-plumbing-example") == []


def test_handoff_command_may_name_an_outside_address(open_world) -> None:
    runtime = open_world
    customer_writes(runtime)
    before = len(outbox(runtime))
    raw = mails.plain(sender=DANA, to=["support@vendor.example"], subject="Re: [VND-1] Printer jams on tray 2",
                      text="#handoff bob@plumbing.example Tray 2 roller, please.")
    deliver(runtime, raw, rcpt=["support@vendor.example"])

    assert link_of(runtime, "EXT1-1").parent.ref == "VND-1"
    assert ticket(runtime, "EXT1-1").messages[0].text == "Tray 2 roller, please."
    assert only(new_mail_since(runtime, before)).recipient == "bob@plumbing.example"


def test_the_partner_outlives_a_restart_and_can_be_adopted_by_config(tmp_path: Path) -> None:
    data = open_config(tmp_path)
    with Runtime.open(parse_config(data)) as runtime:
        customer_writes(runtime)
        dana_forwards(runtime, "bob@plumbing.example")
        notice = only([o for o in outbox(runtime) if o.kind == "handoff"])

    data["accounts"].append({"slug": "ext-plumbing-example", "name": "Bob's Plumbing", "kind": "external",
                             "prefix": "BOB", "domains": ["plumbing.example"]})
    with Runtime.open(parse_config(data)) as runtime:
        answer(runtime, notice, BOB, "Done, the roller is replaced.")
        child = ticket(runtime, "EXT1-1")
        assert child.account.name == "Bob's Plumbing"
        assert child.messages[-1].text == "Done, the roller is replaced."
        assert "Done, the roller is replaced." in body_of(
            runtime, [o for o in outbox(runtime) if o.recipient == "alice@client.example"][-1])


def test_config_may_not_take_the_prefixes_of_added_partners(tmp_path: Path) -> None:
    data = open_config(tmp_path)
    data["accounts"].append({"slug": "late", "name": "Late", "kind": "external", "prefix": "EXT2",
                             "domains": ["late.example"]})
    with pytest.raises(ConfigError, match=r"accounts\[\d+\]\.prefix: .*EXT followed by digits"):
        parse_config(data)


def test_two_workers_adding_partners_at_once_both_succeed(open_world) -> None:
    def worker(address: str) -> str:
        with open_world.db.transaction() as session:
            account = ensure_account(session, adhoc_settings(address))
            time.sleep(0.2)  # hold the transaction while the other one decides
            return account.prefix

    assert sorted(run_at_once(worker, [("x@one.example",), ("y@two.example",)])) == ["EXT1", "EXT2"]

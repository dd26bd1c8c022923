"""Deep chains, handoff by command, repeats, recall, decline, closing, and what never crosses a link."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.channels.intake import accept_raw
from gateway.core.config import parse_config
from gateway.core.runtime import Runtime
from gateway.desk.chain import chain_line
from gateway.pipeline.runner import process_inbox_item
from storage import repositories
from storage.models import InboxItem
from tests.at_once import run_at_once
from tests.flows import mails
from tests.flows.world import (
    ALICE,
    DANA,
    PAUL,
    SAM,
    answer,
    body_of,
    customer_writes,
    dana_forwards_to_partner,
    demo_data,
    link_of,
    new_mail_since,
    only,
    outbox,
    sent_mail,
    ticket,
)
from tests.pipeline.mail import deliver

FRED = "Fred Field <fred@fieldco.example>"


def dana_writes(runtime: Runtime, text: str, *, to: str = "support@vendor.example", ref: str = "VND-1"):
    raw = mails.plain(sender=DANA, to=[to], subject=f"Re: [{ref}] Printer jams on tray 2", text=text)
    return deliver(runtime, raw, rcpt=[to])


def notice_to(runtime: Runtime, recipient: str):
    return [o for o in outbox(runtime) if o.kind == "handoff" and o.recipient == recipient][-1]


def forward_notice(runtime: Runtime, notice, sender: str, to: str, cc: str, message_id: str):
    sent = sent_mail(runtime, notice)
    raw = mails.outlook_forward(
        sender=sender, to=[to], cc=[cc], note="Please take this one.", original_from=str(sent["From"]),
        original_subject=str(sent["Subject"]), original_text=body_of(runtime, notice), message_id=message_id,
    )
    return deliver(runtime, raw, rcpt=[cc])


@pytest.fixture
def four_levels(db_url: str, tmp_path: Path):
    """vendor → partner → fieldco (hosted) → subco (external)."""
    fieldco = {"slug": "fieldco", "name": "FieldCo", "prefix": "FLD", "addresses": ["desk@fieldco.example"],
               "agents": [{"name": "Fred Field", "email": "fred@fieldco.example"}], "partners": ["subco"]}
    data = demo_data(tmp_path, db_url)
    data["accounts"].append(fieldco)
    next(a for a in data["accounts"] if a["slug"] == "partner")["partners"] = ["subco", "fieldco"]
    with Runtime.open(parse_config(data)) as runtime:
        yield runtime


def test_a_four_level_chain_shows_the_bottom_status_everywhere(four_levels) -> None:
    runtime = four_levels
    customer_writes(runtime)
    dana_forwards_to_partner(runtime)
    forward_notice(runtime, notice_to(runtime, "paul@partner.example"), PAUL, "desk@fieldco.example",
                   "service@partner.example", "<fw2@partner.example>")
    forward_notice(runtime, notice_to(runtime, "fred@fieldco.example"), FRED, "sam@subco.example",
                   "desk@fieldco.example", "<fw3@fieldco.example>")
    assert link_of(runtime, "SUB-1").parent.ref == "FLD-1"
    before = len(outbox(runtime))

    answer(runtime, notice_to(runtime, "sam@subco.example"), SAM, "#status resolved\n\nNew roller fitted.")

    bottom = "SUB-1 (Subco Field Service, resolved)"
    with runtime.db.transaction() as session:
        lines = {ref: chain_line(session, repositories.ticket_by_ref(session, ref))
                 for ref in ("VND-1", "PTN-1", "FLD-1", "SUB-1")}
    assert all(line.startswith("VND-1 (Vendor Ltd, open) → PTN-1") and line.endswith(bottom)
               for line in lines.values()), lines
    assert link_of(runtime, "SUB-1").state == "resolved" and link_of(runtime, "FLD-1").state == "accepted"
    queued = new_mail_since(runtime, before)
    assert {o.recipient for o in queued} >= {"alice@client.example", "fred@fieldco.example"}
    assert only([o for o in queued if o.recipient == "fred@fieldco.example"]).kind == "rating"
    for item in queued:
        assert bottom in body_of(runtime, item)
        assert "SUB-1=resolved" in str(sent_mail(runtime, item)["X-Relaydesk-Chain"])
    assert "New roller fitted." in body_of(runtime, only([o for o in queued if o.recipient == "alice@client.example"]))


def test_handoff_command_sent_to_the_gateway_alone(runtime) -> None:
    customer_writes(runtime)
    before = len(outbox(runtime))

    dana_writes(runtime, "#handoff fixit Please check the paper feed.\n\nThe customer is in all morning.")

    fix = ticket(runtime, "FIX-1")
    assert link_of(runtime, "FIX-1").parent.ref == "VND-1"
    assert fix.messages[0].text == "Please check the paper feed.\n\nThe customer is in all morning."
    notice = only(new_mail_since(runtime, before))
    sent = sent_mail(runtime, notice)
    assert (notice.kind, notice.recipient) == ("handoff", "jobs@fixit.example")
    assert sent["Reply-To"].addresses[0].addr_spec.startswith("support+r")
    assert [m.visibility for m in ticket(runtime, "VND-1").messages] == ["public", "internal"]

    before = len(outbox(runtime))
    answer(runtime, notice, "FixIt Jobs <jobs@fixit.example>", "We come on Monday.")
    assert "We come on Monday." in body_of(runtime, only(new_mail_since(runtime, before, "alice@client.example")))


def test_unknown_partner_in_handoff_command_gets_one_clear_error(sqlite_runtime) -> None:
    runtime = sqlite_runtime
    customer_writes(runtime)
    before = len(outbox(runtime))

    dana_writes(runtime, "#handoff acme Please look at it.")

    error = only(new_mail_since(runtime, before))
    assert (error.kind, error.recipient) == ("error", "dana@vendor.example")
    assert '"acme" is not a partner' in body_of(runtime, error)
    assert ticket(runtime, "VND-1").messages[-1].visibility == "internal"
    assert len(repositories_links(runtime)) == 0


def repositories_links(runtime: Runtime):
    with runtime.db.transaction() as session:
        return repositories.child_links(session, repositories.ticket_by_ref(session, "VND-1").id)


def test_the_same_handoff_seen_by_every_channel_makes_one_child(runtime) -> None:
    customer_writes(runtime)
    dana_forwards_to_partner(runtime, rcpt=["service@partner.example"])
    dana_forwards_to_partner(runtime, rcpt=["support@vendor.example"])
    raw = mails.outlook_forward(
        sender=DANA, to=["service@partner.example"], cc=["support@vendor.example"],
        note="Paul, please send a technician.\n-- Dana", original_from=ALICE,
        original_subject="Printer jams on tray 2", original_text="Hello", message_id="<fw1@vendor.example>",
    )
    deliver(runtime, raw, rcpt=[], channel="imap")

    assert len(repositories_links(runtime)) == 1
    with runtime.db.transaction() as session:
        assert [t.ref for t in repositories.tickets(session, "partner")] == ["PTN-1"]
    assert len([o for o in outbox(runtime) if o.kind == "handoff"]) == 1


def test_copies_of_one_forward_processed_at_once_make_one_child(runtime) -> None:
    """A sender's MTA delivers one copy per domain; two workers taking them at the same moment."""
    customer_writes(runtime)
    raw = mails.outlook_forward(
        sender=DANA, to=["service@partner.example"], cc=["support@vendor.example"], note="Please help.",
        original_from=ALICE, original_subject="Printer jams on tray 2", original_text="Hello",
        message_id="<fw1@vendor.example>",
    )
    items = [accept_raw(runtime, "smtp", raw, {"mail_from": "", "rcpt_tos": [rcpt]})
             for rcpt in ("service@partner.example", "support@vendor.example")]
    run_at_once(process_inbox_item, [(runtime, item_id) for item_id in items])

    assert len(repositories_links(runtime)) == 1
    with runtime.db.transaction() as session:
        assert [t.ref for t in repositories.tickets(session, "partner")] == ["PTN-1"]
        assert [i.status for i in session.scalars(select(InboxItem).where(InboxItem.id.in_(items)))] == ["done"] * 2
    assert len([o for o in outbox(runtime) if o.kind == "handoff"]) == 1
    assert [m.from_email for m in ticket(runtime, "VND-1").messages].count("dana@vendor.example") == 1


def test_recall_cancels_the_child_and_tells_the_partner(sqlite_runtime) -> None:
    runtime = sqlite_runtime
    customer_writes(runtime)
    dana_forwards_to_partner(runtime)
    before = len(outbox(runtime))

    dana_writes(runtime, "#recall")

    assert link_of(runtime, "PTN-1").state == "recalled"
    assert ticket(runtime, "PTN-1").status == "cancelled"
    told = only(new_mail_since(runtime, before))
    assert (told.kind, told.recipient) == ("notice", "paul@partner.example")
    assert "recalled" in body_of(runtime, told)


def test_partner_declines_before_accepting(sqlite_runtime) -> None:
    runtime = sqlite_runtime
    customer_writes(runtime)
    dana_forwards_to_partner(runtime)
    before = len(outbox(runtime))

    answer(runtime, notice_to(runtime, "paul@partner.example"), PAUL,
           "#status cancelled\n\nSorry, we do not service this model.")

    assert link_of(runtime, "PTN-1").state == "declined"
    told = only(new_mail_since(runtime, before))
    assert (told.kind, told.recipient) == ("notice", "dana@vendor.example")
    assert "declined" in body_of(runtime, told)


def test_closing_the_parent_closes_the_whole_chain_below(runtime) -> None:
    customer_writes(runtime)
    dana_forwards_to_partner(runtime)
    forward_notice(runtime, notice_to(runtime, "paul@partner.example"), PAUL, "sam@subco.example",
                   "service@partner.example", "<fw2@partner.example>")
    before = len(outbox(runtime))

    dana_writes(runtime, "#status closed")

    assert [ticket(runtime, ref).status for ref in ("VND-1", "PTN-1", "SUB-1")] == ["closed"] * 3
    assert [link_of(runtime, ref).state for ref in ("PTN-1", "SUB-1")] == ["recalled", "recalled"]
    queued = new_mail_since(runtime, before)
    assert sorted((o.kind, o.recipient) for o in queued) == [
        ("notice", "paul@partner.example"), ("notice", "sam@subco.example")]


def test_a_customer_cannot_command_and_is_told_once(sqlite_runtime) -> None:
    runtime = sqlite_runtime
    customer_writes(runtime)
    ack = only([o for o in outbox(runtime) if o.kind == "ack"])
    before = len(outbox(runtime))

    answer(runtime, ack, ALICE, "#status closed\n\nPlease close this.")
    answer(runtime, ack, ALICE, "#status closed\n\nPlease close this now.")

    vnd = ticket(runtime, "VND-1")
    assert vnd.status == "new"
    assert [m.visibility for m in vnd.messages[1:]] == ["internal", "internal"]
    error = only(new_mail_since(runtime, before))
    assert (error.kind, error.recipient) == ("error", "alice@client.example")
    assert "not allowed to use #status" in body_of(runtime, error)


def test_a_customer_opening_a_ticket_with_a_hash_line_is_heard_not_refused(sqlite_runtime) -> None:
    runtime = sqlite_runtime
    deliver(runtime, mails.customer_mail(sender=ALICE, text="#urgent printer down\n\nNothing prints since 9:00."))

    vnd = ticket(runtime, "VND-1")
    assert [(m.visibility, m.text) for m in vnd.messages] == [
        ("public", "#urgent printer down\nNothing prints since 9:00.")]
    assert [(o.kind, o.recipient) for o in outbox(runtime)] == [("ack", "alice@client.example")]


def test_unknown_command_from_an_agent_is_not_applied(sqlite_runtime) -> None:
    runtime = sqlite_runtime
    customer_writes(runtime)
    before = len(outbox(runtime))

    dana_writes(runtime, "#asset PRN-4711\n#frobnicate now\n\nSee above.")

    assert ticket(runtime, "VND-1").asset is None
    error = only(new_mail_since(runtime, before))
    assert error.recipient == "dana@vendor.example" and "#frobnicate" in body_of(runtime, error)


def test_agent_commands_assign_asset_internal(sqlite_runtime) -> None:
    runtime = sqlite_runtime
    customer_writes(runtime)
    before = len(outbox(runtime))

    dana_writes(runtime, "#assign dana\n#asset PRN-4711 (HP LaserJet)\n#internal\n\nCustomer is a VIP.")

    vnd = ticket(runtime, "VND-1")
    assert (vnd.assignee, vnd.asset) == ("dana@vendor.example", "PRN-4711 (HP LaserJet)")
    assert vnd.messages[-1].visibility == "internal" and vnd.messages[-1].text == "Customer is a VIP."
    assert new_mail_since(runtime, before) == []


def test_approve_makes_an_unverified_message_public(sqlite_runtime) -> None:
    runtime = sqlite_runtime
    customer_writes(runtime)
    raw = mails.plain(sender="Bob <bob@client.example>", to=["support@vendor.example"],
                      subject="Re: [VND-1] Printer jams on tray 2", text="I am Alice's colleague, same here.")
    deliver(runtime, raw)
    assert ticket(runtime, "VND-1").messages[-1].unverified

    dana_writes(runtime, "#approve")

    bob = [m for m in ticket(runtime, "VND-1").messages if m.from_email == "bob@client.example"][0]
    assert (bob.visibility, bob.unverified) == ("public", False)


def test_a_partner_never_sees_the_parents_customer_mail_or_internal_notes(runtime) -> None:
    customer_writes(runtime)
    dana_forwards_to_partner(runtime)
    ack = only([o for o in outbox(runtime) if o.kind == "ack"])
    before = len(outbox(runtime))

    answer(runtime, ack, ALICE, "It also happens on tray 1.")
    dana_writes(runtime, "#internal\n\nPartner is often late, keep an eye on it.")
    dana_writes(runtime, "Dear Alice, a technician is on the way.")

    assert not new_mail_since(runtime, before, "paul@partner.example")
    texts = " ".join(m.text for m in ticket(runtime, "PTN-1").messages)
    assert "tray 1" not in texts and "often late" not in texts and "on the way" not in texts

    assert "on the way" in body_of(runtime, only(new_mail_since(runtime, before, "alice@client.example", "reply")))

    before = len(outbox(runtime))
    dana_writes(runtime, "The customer asks for a morning slot.", to="service@partner.example", ref="PTN-1")
    told = only(new_mail_since(runtime, before))
    assert told.recipient == "paul@partner.example" and "morning slot" in body_of(runtime, told)

"""Account policies and edge paths of the linked-ticket flow."""

from __future__ import annotations

import email
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage

from gateway.channels.intake import accept_raw
from gateway.core.runtime import Runtime
from gateway.pipeline.runner import process_inbox_item
from storage.models import Event, InboxItem
from tests.flows import mails
from tests.flows.world import (
    ALICE,
    DANA,
    PAUL,
    answer,
    body_of,
    customer_writes,
    dana_forwards_to_partner,
    link_of,
    new_mail_since,
    only,
    outbox,
    sent_mail,
    ticket,
)
from tests.pipeline.mail import config_with, deliver


@contextmanager
def handed_off_world(tmp_path, **account_changes) -> Iterator[Runtime]:
    with Runtime.open(config_with(tmp_path, account_changes=account_changes)) as runtime:
        customer_writes(runtime)
        dana_forwards_to_partner(runtime)
        yield runtime


def paul_notice(runtime: Runtime):
    return only([o for o in outbox(runtime) if o.kind == "handoff"])


def paul_answers_a_handoff(runtime: Runtime, text: str) -> None:
    """alice writes, dana hands VND-1 to partner, paul answers the handoff notice with `text`."""
    customer_writes(runtime)
    dana_forwards_to_partner(runtime)
    answer(runtime, paul_notice(runtime), PAUL, text)


def rating_request_after_paul_resolves(runtime: Runtime):
    """paul resolves PTN-1 from the handoff notice; the rating request dana gets."""
    paul_answers_a_handoff(runtime, "#status resolved\n\nDone.")
    return only([o for o in outbox(runtime) if o.kind == "rating"])


def test_agents_policy_tells_only_the_agents_and_without_attribution(tmp_path) -> None:
    with handed_off_world(tmp_path, vendor={"relay_partner_replies": "agents", "attribute_partner": False}) as runtime:
        before = len(outbox(runtime))
        answer(runtime, paul_notice(runtime), PAUL, "Technician booked for Tuesday 10:00")

        told = only(new_mail_since(runtime, before))
        assert told.recipient == "dana@vendor.example"
        assert "Technician booked" in body_of(runtime, told) and "via " not in body_of(runtime, told)


def test_hidden_customer_contact_never_reaches_the_partner(tmp_path) -> None:
    with handed_off_world(tmp_path, vendor={"hide_customer_contact": True}) as runtime:
        ptn = ticket(runtime, "PTN-1")
        assert "alice@client.example" not in {p.email for p in ptn.participants}
        assert all(m.from_email != "alice@client.example" for m in ptn.messages)
        assert "alice@client.example" not in body_of(runtime, paul_notice(runtime))


def test_a_reply_seen_by_smtp_and_imap_is_mirrored_once(sqlite_runtime) -> None:
    runtime = sqlite_runtime
    customer_writes(runtime)
    dana_forwards_to_partner(runtime)
    notice = paul_notice(runtime)
    before = len(outbox(runtime))

    inbox_id, _ = answer(runtime, notice, PAUL, "Technician booked for Tuesday 10:00")
    with runtime.db.transaction() as session:
        raw = session.get(InboxItem, inbox_id).raw
    deliver(runtime, raw, rcpt=[], channel="imap")

    only(new_mail_since(runtime, before, "alice@client.example"))
    assert len([m for m in ticket(runtime, "VND-1").messages if m.visibility == "partner"]) == 1


def test_forward_to_an_external_partner_with_the_gateway_in_bcc(sqlite_runtime) -> None:
    runtime = sqlite_runtime
    customer_writes(runtime)
    raw = mails.outlook_forward(sender=DANA, to=["jobs@fixit.example"], note="Can you fix this?",
                                original_from=ALICE, original_subject="Printer jams on tray 2",
                                original_text="Hello")
    before = len(outbox(runtime))

    deliver(runtime, raw, rcpt=["support@vendor.example"])

    assert link_of(runtime, "FIX-1").parent.ref == "VND-1"
    assert only(new_mail_since(runtime, before)).recipient == "jobs@fixit.example"


def test_forward_as_attachment_threads_by_the_originals_message_id(sqlite_runtime) -> None:
    runtime = sqlite_runtime
    original = mails.customer_mail(sender=ALICE, message_id="<c1@client.example>")
    deliver(runtime, original)
    forward = EmailMessage()
    forward["From"], forward["To"], forward["Cc"] = DANA, "service@partner.example", "support@vendor.example"
    forward["Subject"], forward["Message-ID"] = "Fwd: see attached", "<fw9@vendor.example>"
    forward.set_content("Paul, please have a look at the attached request.")
    forward.add_attachment(email.message_from_bytes(original))

    deliver(runtime, bytes(forward), rcpt=["service@partner.example", "support@vendor.example"])

    assert link_of(runtime, "PTN-1").parent.ref == "VND-1"
    assert ticket(runtime, "PTN-1").messages[0].text.startswith("Paul, please have a look")


def test_a_bad_rating_is_answered_and_not_recorded(sqlite_runtime) -> None:
    runtime = sqlite_runtime
    request = rating_request_after_paul_resolves(runtime)
    before = len(outbox(runtime))

    answer(runtime, request, DANA, "#rate 9 superb")

    assert link_of(runtime, "PTN-1").state == "resolved"
    error = only(new_mail_since(runtime, before))
    assert error.kind == "error" and '"9" is not a rating' in body_of(runtime, error)


def test_the_mirror_cap_stops_a_flood(tmp_path) -> None:
    config = config_with(tmp_path, outbound={"smarthost": "127.0.0.1:25", "mirror_cap_per_minute": 1})
    with Runtime.open(config) as runtime:
        customer_writes(runtime)
        dana_forwards_to_partner(runtime)
        notice = paul_notice(runtime)
        answer(runtime, notice, PAUL, "First update")
        answer(runtime, notice, PAUL, "Second update")

        vnd = ticket(runtime, "VND-1")
        assert [m.text for m in vnd.messages if m.visibility == "partner"] == ["First update"]
        with runtime.db.transaction() as session:
            assert session.query(Event).filter(Event.ticket_id == vnd.id, Event.type == "mirror_capped").count() == 1


def test_a_forward_seen_only_in_the_dispatchers_sent_folder_is_a_handoff(sqlite_runtime) -> None:
    runtime = sqlite_runtime
    customer_writes(runtime)
    raw = mails.outlook_forward(sender=DANA, to=["jobs@fixit.example"], note="Can you fix this?",
                                original_from=ALICE, original_subject="Printer jams on tray 2",
                                original_text="Hello", message_id="<sent1@vendor.example>")
    before = len(outbox(runtime))

    inbox_id = accept_raw(runtime, "imap", raw, {"account": "vendor", "rcpt_tos": []}, dedupe_key="Sent:1:7")
    process_inbox_item(runtime, inbox_id)

    assert link_of(runtime, "FIX-1").parent.ref == "VND-1"
    notice = only(new_mail_since(runtime, before))
    assert notice.recipient == "jobs@fixit.example"


def test_a_partner_update_reaches_the_contacts_the_customer_copied(sqlite_runtime) -> None:
    runtime = sqlite_runtime
    raw = mails.plain(sender=ALICE, to=["support@vendor.example"], cc=["Bob <bob@client.example>"],
                      subject="Printer jams on tray 2", text="Hello,\n\nthe printer jams.", message_id="<c2@client.example>")
    deliver(runtime, raw)
    dana_forwards_to_partner(runtime)
    before = len(outbox(runtime))

    answer(runtime, paul_notice(runtime), PAUL, "Technician booked for Tuesday 10:00")

    assert {o.recipient for o in new_mail_since(runtime, before)} == {
        "alice@client.example", "bob@client.example", "dana@vendor.example"}


def test_a_second_forward_to_the_same_partner_joins_the_child_with_its_new_file(sqlite_runtime) -> None:
    runtime = sqlite_runtime
    customer_writes(runtime)
    dana_forwards_to_partner(runtime)
    photo = b"\x89PNG\r\n\x1a\n fake photo of the tray"
    raw = mails.outlook_forward(
        sender=DANA, to=["service@partner.example"], cc=["support@vendor.example"],
        note="Paul, the customer sent a photo of the tray.", original_from=ALICE,
        original_subject="Printer jams on tray 2", original_text="Here is a photo.", message_id="<fw5@vendor.example>",
        attachment=("tray.png", "image/png", photo),
    )
    before = len(outbox(runtime))

    deliver(runtime, raw, rcpt=["service@partner.example", "support@vendor.example"])

    ptn = ticket(runtime, "PTN-1")
    assert [link_of(runtime, "PTN-1").parent.ref] == ["VND-1"]
    assert ptn.messages[-1].text == "Paul, the customer sent a photo of the tray."
    assert [a.filename for a in ptn.messages[-1].attachments] == ["tray.png"]
    told = only(new_mail_since(runtime, before))
    assert told.recipient == "paul@partner.example" and "photo of the tray" in body_of(runtime, told)


def test_a_partner_reply_travels_up_with_its_files(sqlite_runtime) -> None:
    runtime = sqlite_runtime
    customer_writes(runtime)
    dana_forwards_to_partner(runtime)
    report = b"%PDF-1.4 service report\n%%EOF\n"
    before = len(outbox(runtime))

    answer(runtime, paul_notice(runtime), PAUL, "Service report attached.",
           attachment=("report.pdf", "application/pdf", report))

    copy = ticket(runtime, "VND-1").messages[-1]
    original = ticket(runtime, "PTN-1").messages[-1]
    assert copy.visibility == "partner"
    assert [a.sha256 for a in copy.attachments] == [a.sha256 for a in original.attachments]
    to_alice = only(new_mail_since(runtime, before, "alice@client.example"))
    [pdf] = sent_mail(runtime, to_alice).iter_attachments()
    assert pdf.get_filename() == "report.pdf" and pdf.get_content() == report


def test_answers_to_mail_only_agents_got_stay_among_agents(sqlite_runtime) -> None:
    """A dispatcher answering a rating request or a notice writes a note, not a reply to the customer."""
    runtime = sqlite_runtime
    request = rating_request_after_paul_resolves(runtime)
    before = len(outbox(runtime))

    answer(runtime, request, DANA, "Paul was quick, but he left a mess. Let us talk.")
    answer(runtime, request, DANA, "#rate 4 quick")

    notes = [m for m in ticket(runtime, "VND-1").messages if m.from_email == "dana@vendor.example"]
    assert [m.visibility for m in notes[-2:]] == ["internal", "internal"]
    assert new_mail_since(runtime, before) == []
    assert link_of(runtime, "PTN-1").rating == 4


def test_an_answer_to_a_decline_notice_is_a_note(sqlite_runtime) -> None:
    runtime = sqlite_runtime
    paul_answers_a_handoff(runtime, "#status cancelled\n\nSorry, we do not service this model.")
    notice = only([o for o in outbox(runtime) if o.kind == "notice"])
    before = len(outbox(runtime))

    answer(runtime, notice, DANA, "I will call FixIt instead.")

    assert ticket(runtime, "VND-1").messages[-1].visibility == "internal"
    assert new_mail_since(runtime, before) == []

"""An agent's public answer reaches the customer by mail, once, and starts the response clock."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Event
from tests.pipeline.mail import deliver, mail, outbox, sent_mail, ticket

DANA = "Dana Dispatcher <dana@vendor.example>"


def test_agent_writing_only_to_the_gateway_is_relayed_to_the_requester(runtime) -> None:
    deliver(runtime, mail(message_id="<first@client.example>", attachment=("a.txt", "text/plain", b"x")))
    _, out = deliver(runtime, mail(sender=DANA, subject="Re: [VND-1] Printer jams on tray 2",
                                   text="A technician comes on Tuesday.", attachment=("plan.pdf", "application/pdf", b"%PDF")))
    ack, reply = outbox(runtime)
    assert out == [reply.id] and (reply.kind, reply.recipient) == ("reply", "alice@client.example")
    relayed = sent_mail(runtime, reply)
    assert relayed["Subject"] == "[VND-1] Printer jams on tray 2" and relayed["Auto-Submitted"] is None
    assert relayed["From"].addresses[0].addr_spec == "support@vendor.example"
    assert relayed["References"].split() == ["<first@client.example>", ack.rfc_message_id]
    assert relayed["In-Reply-To"] == ack.rfc_message_id
    assert "A technician comes on Tuesday." in relayed.get_body(("plain",)).get_content()
    assert [p.get_filename() for p in relayed.iter_attachments()] == ["plan.pdf"]

    vnd1 = ticket(runtime, "VND-1")
    assert vnd1.status == "open"
    with runtime.db.transaction() as session:
        types = [e.type for e in session.scalars(select(Event).where(Event.ticket_id == vnd1.id).order_by(Event.id))]
    assert types.count("first_response") == 1


def test_agent_answering_the_customer_directly_is_stored_but_not_sent_twice(runtime) -> None:
    deliver(runtime, mail())
    _, out = deliver(runtime, mail(sender=DANA, to="alice@client.example", cc="support@vendor.example",
                                   subject="Re: [VND-1] Printer jams on tray 2", text="On it."),
                     rcpt=["support@vendor.example"])
    assert out == [] and [o.kind for o in outbox(runtime)] == ["ack"]
    assert ticket(runtime, "VND-1").messages[-1].visibility == "public"


def test_a_copied_contact_of_the_requester_hears_the_answer_too(runtime) -> None:
    deliver(runtime, mail(cc="Bob <bob@client.example>, dana@vendor.example"))
    assert {(p.role, p.email) for p in ticket(runtime, "VND-1").participants} == {
        ("requester", "alice@client.example"), ("cc", "bob@client.example")}
    deliver(runtime, mail(sender=DANA, subject="[VND-1] update", text="Parts ordered."))
    assert sorted((o.kind, o.recipient) for o in outbox(runtime)) == [
        ("ack", "alice@client.example"), ("reply", "alice@client.example"), ("reply", "bob@client.example")]


def test_a_channel_naming_the_account_decides_where_mail_from_a_sent_folder_belongs(sqlite_runtime) -> None:
    from gateway.channels.intake import accept_raw
    from gateway.pipeline.runner import process_inbox_item

    deliver(sqlite_runtime, mail())
    sent_copy = mail(sender=DANA, to="Bob <bob@elsewhere.example>", subject="Re: [VND-1] Printer", text="FYI.")
    inbox_id = accept_raw(sqlite_runtime, channel="imap", raw=sent_copy,
                          envelope={"mail_from": "", "rcpt_tos": [], "account": "vendor"})
    process_inbox_item(sqlite_runtime, inbox_id)
    assert ticket(sqlite_runtime, "VND-1").messages[-1].text.strip() == "FYI."

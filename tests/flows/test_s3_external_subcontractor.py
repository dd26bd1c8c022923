"""S3: a three-level chain with an external contractor who only has a mailbox."""

from __future__ import annotations

from tests.flows import mails
from tests.flows.world import (
    PAUL,
    SAM,
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
from tests.pipeline.mail import deliver

CHAIN = "VND-1 (Vendor Ltd, open) → PTN-1 (Partner GmbH, {ptn}) → SUB-1 (Subco Field Service, {sub})"


def paul_forwards_to_sam(runtime, notice) -> tuple[int, list[int]]:
    """paul forwards the mail he got about PTN-1 to sam, Cc his own support address."""
    sent = sent_mail(runtime, notice)
    raw = mails.outlook_forward(
        sender=PAUL, to=["sam@subco.example"], cc=["service@partner.example"],
        note="Sam, can you get the part? Thanks, Paul", original_from=str(sent["From"]),
        original_subject=str(sent["Subject"]), original_text=body_of(runtime, notice),
        message_id="<fw2@partner.example>",
    )
    return deliver(runtime, raw, rcpt=["service@partner.example"])


def test_s3_external_contractor_reply_travels_to_the_customer_once(runtime) -> None:
    customer_writes(runtime)
    dana_forwards_to_partner(runtime)
    [notice_to_paul] = [o for o in outbox(runtime) if o.kind == "handoff"]
    before = len(outbox(runtime))

    paul_forwards_to_sam(runtime, notice_to_paul)

    sub = ticket(runtime, "SUB-1")
    assert sub.account.slug == "subco"
    assert link_of(runtime, "SUB-1").parent.ref == "PTN-1"
    assert {("contact", "alice@client.example"), ("requester", "paul@partner.example"),
            ("agent", "sam@subco.example")} <= {(p.role, p.email) for p in sub.participants}
    assert "the printer jams on tray 2" in sub.messages[1].text and sub.messages[1].attachments
    notice = only(new_mail_since(runtime, before))
    sent = sent_mail(runtime, notice)
    assert (notice.kind, notice.recipient) == ("handoff", "sam@subco.example")
    assert sent["In-Reply-To"] == "<fw2@partner.example>"
    assert sent["From"].addresses[0].addr_spec == "service@partner.example"
    assert sent["Reply-To"].addresses[0].addr_spec.startswith("service+r")
    assert CHAIN.format(ptn="open", sub="new") in body_of(runtime, notice)
    ptn = ticket(runtime, "PTN-1")
    assert [m.visibility for m in ptn.messages if m.from_email == "paul@partner.example"] == ["internal"]

    before = len(outbox(runtime))
    answer(runtime, notice, SAM, "Part ordered, arriving Thursday", style="apple",
           signature="Mit freundlichen Grüßen\nSam Subco")

    sub, ptn, vnd = ticket(runtime, "SUB-1"), ticket(runtime, "PTN-1"), ticket(runtime, "VND-1")
    reply = sub.messages[-1]
    assert (reply.visibility, reply.text) == ("public", "Part ordered, arriving Thursday")
    [on_ptn] = [m for m in ptn.messages if m.origin_message_id == reply.id]
    [on_vnd] = [m for m in vnd.messages if m.origin_message_id == reply.id]
    assert on_ptn.visibility == on_vnd.visibility == "partner"
    assert len({m.id for t in (sub, ptn, vnd) for m in t.messages if "Part ordered" in m.text}) == 3
    queued = new_mail_since(runtime, before)
    to_alice = only([o for o in queued if o.recipient == "alice@client.example"])
    assert "Part ordered, arriving Thursday" in body_of(runtime, to_alice)
    assert "Grüßen" not in body_of(runtime, to_alice)
    assert not [o for o in queued if o.recipient == "sam@subco.example"]
    recipients = [o.recipient for o in queued]
    assert len(recipients) == len(set(recipients)), recipients
    for item in queued:
        assert CHAIN.format(ptn="open", sub="open") in body_of(runtime, item), item.recipient
    assert link_of(runtime, "SUB-1").state == "accepted"

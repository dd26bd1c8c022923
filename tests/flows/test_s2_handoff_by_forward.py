"""S2: handoff by forward, the partner's reply mirrored to the customer, resolution and rating."""

from __future__ import annotations

import hashlib

from storage.models import Attachment
from tests.flows import mails
from tests.flows.world import (
    DANA,
    PAUL,
    answer,
    body_of,
    customer_writes,
    dana_forwards_to_partner,
    header,
    link_of,
    new_mail_since,
    only,
    outbox,
    sent_mail,
    ticket,
)


def test_s2_forward_reply_resolve_rate(runtime) -> None:
    customer_writes(runtime)
    before = len(outbox(runtime))

    _, queued = dana_forwards_to_partner(runtime)

    vnd, ptn = ticket(runtime, "VND-1"), ticket(runtime, "PTN-1")
    assert ptn.account.slug == "partner" and ptn.subject == vnd.subject
    link = link_of(runtime, "PTN-1")
    assert (link.parent.ref, link.state) == ("VND-1", "handed_off")
    note, request = ptn.messages
    assert note.text.startswith("Paul, please send a technician.") and note.from_email == "dana@vendor.example"
    assert "the printer jams on tray 2" in request.text
    roles = {(p.role, p.email) for p in ptn.participants}
    assert {("requester", "dana@vendor.example"), ("contact", "alice@client.example"),
            ("agent", "paul@partner.example")} <= roles
    [forward_on_parent] = [m for m in vnd.messages if m.from_email == "dana@vendor.example"]
    assert forward_on_parent.visibility == "internal"
    notice = only(new_mail_since(runtime, before))
    assert (notice.kind, notice.recipient, notice.ticket_id) == ("handoff", "paul@partner.example", ptn.id)
    assert queued == [notice.id]
    sent = sent_mail(runtime, notice)
    assert sent["In-Reply-To"] == "<fw1@vendor.example>"
    assert sent["Reply-To"].addresses[0].addr_spec.startswith("service+r")
    assert "VND-1 (Vendor Ltd, open) → PTN-1 (Partner GmbH, new)" in body_of(runtime, notice)
    assert header(runtime, notice, "X-Relaydesk-Chain") == "VND-1=open, PTN-1=new"
    [pdf] = sent.iter_attachments()
    assert pdf.get_filename() == "error-log.pdf" and pdf.get_content() == mails.PDF
    with runtime.db.transaction() as session:
        shas = {a.sha256 for a in session.query(Attachment)}
    assert shas == {hashlib.sha256(mails.PDF).hexdigest()}

    # S2.3: paul answers the notice from his mail client.
    before = len(outbox(runtime))
    answer(runtime, notice, PAUL, "Technician booked for Tuesday 10:00",
           signature="-- \nPaul Partner\nPartner GmbH")

    ptn, vnd = ticket(runtime, "PTN-1"), ticket(runtime, "VND-1")
    reply = ptn.messages[-1]
    assert (reply.visibility, reply.from_email, reply.text) == ("public", "paul@partner.example",
                                                                "Technician booked for Tuesday 10:00")
    copy = vnd.messages[-1]
    assert (copy.visibility, copy.channel, copy.origin_message_id) == ("partner", "mirror", reply.id)
    assert link_of(runtime, "PTN-1").state == "accepted"
    to_alice = only(new_mail_since(runtime, before, "alice@client.example"))
    sent = sent_mail(runtime, to_alice)
    assert sent["From"].addresses[0].addr_spec == "support@vendor.example"
    assert str(sent["Subject"]).startswith("[VND-1] ")
    assert sent["In-Reply-To"] in {"<c1@client.example>", *{o.rfc_message_id for o in outbox(runtime)}}
    text = body_of(runtime, to_alice)
    assert "Technician booked for Tuesday 10:00" in text and "via Partner GmbH" in text
    assert "Paul Partner\nPartner GmbH" not in text and "> " not in text
    assert not new_mail_since(runtime, before, "paul@partner.example")

    # S2.4: paul resolves with a last word.
    before = len(outbox(runtime))
    answer(runtime, notice, PAUL, "#status resolved\n\nReplaced the pickup roller.")

    assert ticket(runtime, "PTN-1").status == "resolved"
    assert link_of(runtime, "PTN-1").state == "resolved"
    rating_request = only(new_mail_since(runtime, before, "dana@vendor.example"))  # one mail per update
    assert (rating_request.kind, rating_request.ticket_id) == ("rating", vnd.id)
    assert "#rate" in body_of(runtime, rating_request)
    assert "Replaced the pickup roller." in body_of(runtime, rating_request)
    relayed = only(new_mail_since(runtime, before, "alice@client.example"))
    assert "Replaced the pickup roller." in body_of(runtime, relayed)
    assert "#status" not in body_of(runtime, relayed)
    assert "PTN-1 (Partner GmbH, resolved)" in body_of(runtime, relayed)

    # S2.5: dana rates from her mail client.
    answer(runtime, rating_request, DANA, "#rate 4 quick, but no call ahead")

    link = link_of(runtime, "PTN-1")
    assert (link.state, link.rating, link.rating_comment) == ("rated", 4, "quick, but no call ahead")
    assert ticket(runtime, "VND-1").status != "resolved"

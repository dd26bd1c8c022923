"""Posting on tickets: one message per Idempotency-Key, and a reply that leaves as a mailed one does."""

from __future__ import annotations

import base64
import re
from concurrent.futures import ThreadPoolExecutor

from tests.e2e.mail_clients import body_text, reply
from tests.e2e.people import ALICE, DANA
from tests.smtp_sink import SmtpSink
from tests.web.conftest import open_ticket
from tests.web.live import LiveApi


def _messages(client, ref: str = "VND-1") -> list[dict]:
    return client.get(f"/api/v1/tickets/{ref}").json()["messages"]


def test_the_same_key_makes_one_message_and_replays_the_first_answer(api: LiveApi, sink: SmtpSink) -> None:
    open_ticket(api)
    client = api.client(api.token("vendor"))
    body = {"text": "We are on it.", "files": [{"filename": "plan.txt", "content_type": "text/plain",
                                                "content_base64": base64.b64encode(b"step 1").decode()}]}
    headers = {"Idempotency-Key": "reply-0001"}
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: client.post("/api/v1/tickets/VND-1/messages", json=body, headers=headers),
                                range(4)))
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["message_id"] for a in answers}) == 1
    again = client.post("/api/v1/tickets/VND-1/messages", json=body, headers=headers)
    assert again.json() == answers[0].json() and again.headers["idempotent-replayed"] == "true"
    posted = [m for m in _messages(client) if m["channel"] == "api"]
    assert len(posted) == 1 and posted[0]["attachments"][0]["filename"] == "plan.txt"
    api.settle()
    assert len([m for m in sink.mails if "We are on it." in m.raw.decode(errors="replace")]) == 1

    other = client.post("/api/v1/tickets/VND-1/messages", json={"text": "Something else"}, headers=headers)
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_key_reused"
    assert client.post("/api/v1/tickets/VND-1/messages", json={"text": "Without a key"}).status_code == 201
    assert len([m for m in _messages(client) if m["channel"] == "api"]) == 2


def test_an_api_reply_leaves_by_mail_as_a_mailed_reply_does(api: LiveApi, sink: SmtpSink) -> None:
    open_ticket(api)
    client = api.client(api.token("vendor"))
    handed = client.post("/api/v1/tickets/VND-1/handoff", json={"partner": "partner", "note": "Please visit."})
    assert handed.status_code == 201 and handed.json()["child"] == "PTN-1"
    api.settle()
    ack = next(m.parsed() for m in sink.mails if m.rcpt_tos == ("alice@client.example",))
    api.receive(reply(ack, DANA, "Mailed: a technician comes tomorrow."))
    api.settle()
    upload = client.post("/api/v1/tickets/VND-1/messages/upload", data={"text": "API: the technician is on the way."},
                         files=[("files", ("route.txt", b"A1 then B2", "text/plain"))])
    assert upload.status_code == 201, upload.text
    api.settle()

    to_alice = [m.parsed() for m in sink.mails if m.rcpt_tos == ("alice@client.example",)]
    mailed = next(m for m in to_alice if "Mailed: a technician" in body_text(m))
    posted = next(m for m in to_alice if "API: the technician" in body_text(m))
    assert _shape(posted) == _shape(mailed)
    assert posted["In-Reply-To"] and posted["In-Reply-To"] in posted["References"]
    assert re.fullmatch(r".*<support\+[0-9a-z.\-]+@vendor\.example>", posted["Reply-To"])
    assert posted["Reply-To"] == mailed["Reply-To"]  # the same token: Alice's on VND-1
    assert "[VND-1]" in posted["Subject"]
    assert "Chain: VND-1" in body_text(posted) and "PTN-1" in body_text(posted)
    assert [p.get_filename() for p in posted.iter_attachments()] == ["route.txt"]
    detail = client.get("/api/v1/tickets/VND-1").json()
    assert any(e["type"] == "first_response" for e in detail["events"])
    assert ALICE.email in {o["recipient"] for o in detail["outbound"] if o["status"] == "sent"}
    health = api.client().get("/api/v1/health").json()
    [pair] = [p for p in health["partner_links"] if (p["account"], p["partner"]) == ("vendor", "partner")]
    assert pair["open_links"] == 1 and pair["last_mail_out"] is not None  # the handoff notice to Paul


def test_status_recall_and_rating_act_as_the_mail_commands(api: LiveApi) -> None:
    open_ticket(api)
    vendor = api.client(api.token("vendor"))
    partner = api.client(api.token("partner"))
    assert vendor.post("/api/v1/tickets/VND-1/handoff", json={"partner": "partner"}).status_code == 201
    refused = vendor.post("/api/v1/tickets/VND-1/rating", json={"rating": 4})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "no_handoff"
    bad = vendor.post("/api/v1/tickets/VND-1/status", json={"status": "archived"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"
    resolved = partner.post("/api/v1/tickets/PTN-1/status", json={"status": "resolved"})
    assert resolved.status_code == 200 and resolved.json()["ticket"]["status"] == "resolved"
    assert resolved.json()["outbound"] >= 1  # the rating request to the vendor's agents
    rated = vendor.post("/api/v1/tickets/VND-1/rating", json={"rating": 4, "comment": "quick"})
    assert rated.status_code == 200
    links = vendor.get("/api/v1/tickets/VND-1").json()["links"]
    assert links == [{"parent": "VND-1", "child": "PTN-1", "state": "rated", "rating": 4, "rating_comment": "quick",
                      "accept_due_at": None, "resolve_due_at": None, "deadline_state": None}]  # no terms here

    assert vendor.post("/api/v1/tickets/VND-1/handoff", json={"partner": "fixit"}).status_code == 201
    recalled = vendor.post("/api/v1/tickets/VND-1/recall", json={})
    assert recalled.status_code == 200
    assert vendor.post("/api/v1/tickets/VND-1/recall", json={}).json()["error"]["code"] == "no_handoff"
    cancelled = vendor.post("/api/v1/tickets/VND-1/status", json={"status": "cancelled"})
    assert cancelled.status_code == 200
    reopened = vendor.post("/api/v1/tickets/VND-1/status", json={"status": "open"})
    assert reopened.status_code == 409 and reopened.json()["error"]["code"] == "bad_status"
    unknown = vendor.post("/api/v1/tickets/VND-1/handoff", json={"partner": "nobody"})
    assert unknown.status_code == 409 and unknown.json()["error"]["code"] == "unknown_partner"


def test_lists_page_by_cursor_and_the_feed_reads_on(api: LiveApi) -> None:
    for number in range(5):
        open_ticket(api, f"Request {number}")
    client = api.client(api.token("vendor", "read"))
    refs, cursor = [], None
    while True:
        page = client.get("/api/v1/tickets", params={"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        refs += [t["ref"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert refs == [f"VND-{n}" for n in range(1, 6)]
    assert [t["ref"] for t in client.get("/api/v1/tickets", params={"status": "closed"}).json()["items"]] == []
    first = client.get("/api/v1/events", params={"limit": 3}).json()
    rest = client.get("/api/v1/events", params={"cursor": first["next_cursor"]}).json()
    ids = [e["id"] for e in first["items"] + rest["items"]]
    assert ids == sorted(set(ids)) and len(ids) > 5
    assert client.get("/api/v1/events", params={"cursor": rest["next_cursor"]}).json()["items"] == []
    inbox = client.get("/api/v1/inbox").json()
    assert len(inbox) == 5 and {tuple(i["tickets"]) for i in inbox} == {(f"VND-{n}",) for n in range(1, 6)}
    assert client.get("/api/v1/reports/partners").json() == []


def _shape(mail) -> tuple[frozenset[str], str, str]:
    """What makes a mail thread and route: its header names (not the MIME structure), From and To."""
    names = frozenset(k.lower() for k in mail.keys() if not k.lower().startswith("content-"))
    return names, mail["From"], mail["To"]

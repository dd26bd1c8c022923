"""The JSON views keep the documented SPEC §10 shapes, chains included, on both backends."""

from __future__ import annotations

from gateway.desk.tickets import open_ticket
from gateway.desk.views import ticket_detail, ticket_list
from storage.models import Link
from storage.repositories import account_by_slug, ticket_by_ref
from tests.pipeline.mail import deliver, mail

SUMMARY_KEYS = {"ref", "account", "status", "subject", "parent", "created_at", "updated_at"}
DETAIL_KEYS = SUMMARY_KEYS | {"requester", "asset", "children", "chain", "links", "messages", "events"}
MESSAGE_KEYS = {"id", "direction", "visibility", "channel", "message_id", "from", "to", "subject", "text",
                "attachments", "created_at"}


def _three_level_chain(runtime) -> None:  # type: ignore[no-untyped-def]
    """VND-1 → PTN-1 → SUB-1, plus a second child FIX-1 of VND-1."""
    deliver(runtime, mail(message_id="<root@client.example>", attachment=("a.txt", "text/plain", b"hello")))
    with runtime.db.transaction() as session:
        vnd1 = ticket_by_ref(session, "VND-1")
        ptn1 = open_ticket(session, account_by_slug(session, "partner"), vnd1.subject)
        sub1 = open_ticket(session, account_by_slug(session, "subco"), vnd1.subject)
        fix1 = open_ticket(session, account_by_slug(session, "fixit"), vnd1.subject)
        ptn1.status = "resolved"
        session.add_all([
            Link(parent_ticket_id=vnd1.id, child_ticket_id=ptn1.id, state="resolved", rating=4, rating_comment="ok"),
            Link(parent_ticket_id=ptn1.id, child_ticket_id=sub1.id),
            Link(parent_ticket_id=vnd1.id, child_ticket_id=fix1.id),
        ])


def test_ticket_list_shape_and_filters(runtime) -> None:
    _three_level_chain(runtime)
    with runtime.db.transaction() as session:
        rows = ticket_list(session)
        assert [set(r) for r in rows] == [SUMMARY_KEYS] * 4
        assert [(r["ref"], r["parent"]) for r in rows] == [
            ("VND-1", None), ("PTN-1", "VND-1"), ("SUB-1", "PTN-1"), ("FIX-1", "VND-1")]
        assert [r["ref"] for r in ticket_list(session, status="resolved")] == ["PTN-1"]
        assert [r["ref"] for r in ticket_list(session, account="subco")] == ["SUB-1"]
        assert all(r["created_at"].endswith("Z") for r in rows)


def test_ticket_detail_shape_with_chain_links_messages_and_events(runtime) -> None:
    _three_level_chain(runtime)
    with runtime.db.transaction() as session:
        detail = ticket_detail(session, "PTN-1")
        root = ticket_detail(session, "VND-1")
        assert ticket_detail(session, "VND-404") is None
    assert DETAIL_KEYS <= set(detail)
    expected_chain = [
        {"ref": "VND-1", "account": "vendor", "status": "new", "depth": 0},
        {"ref": "PTN-1", "account": "partner", "status": "resolved", "depth": 1},
        {"ref": "SUB-1", "account": "subco", "status": "new", "depth": 2},
        {"ref": "FIX-1", "account": "fixit", "status": "new", "depth": 1},
    ]
    assert detail["chain"] == expected_chain and root["chain"] == expected_chain
    assert (detail["parent"], detail["children"]) == ("VND-1", ["SUB-1"])
    no_terms = {"accept_due_at": None, "resolve_due_at": None, "deadline_state": None}
    assert detail["links"] == [
        {"parent": "VND-1", "child": "PTN-1", "state": "resolved", "rating": 4, "rating_comment": "ok", **no_terms},
        {"parent": "PTN-1", "child": "SUB-1", "state": "handed_off", "rating": None, "rating_comment": None,
         **no_terms},
    ]
    assert root["children"] == ["PTN-1", "FIX-1"]
    assert root["requester"] == {"name": "Alice", "email": "alice@client.example", "telegram": None}
    [message] = root["messages"]
    assert MESSAGE_KEYS <= set(message)
    assert (message["direction"], message["visibility"], message["channel"]) == ("in", "public", "smtp")
    assert message["message_id"] == "<root@client.example>" and message["from"] == "alice@client.example"
    assert message["to"] == ["support@vendor.example"] and message["created_at"].endswith("Z")
    assert {k: message["attachments"][0][k] for k in ("filename", "content_type", "size")} == {
        "filename": "a.txt", "content_type": "text/plain", "size": 5}
    assert [e["type"] for e in root["events"]] == ["ticket_created", "message_added"]
    [ack] = root["outbound"]
    assert (ack["kind"], ack["recipient"], ack["status"], ack["subject"]) == (
        "ack", "alice@client.example", "pending", "[VND-1] Printer jams on tray 2")
    assert all(e["at"].endswith("Z") and isinstance(e["detail"], dict) for e in root["events"])

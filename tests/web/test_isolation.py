"""Isolation over HTTP: another account's agent gets 404 for every route of VND-1, whatever the URL.

The world is S2 up to the handoff (VND-1 at vendor, PTN-1 at partner), made
by the real pipeline; the desk runs on a real socket.  Paul (partner) is in
the chain and Rita (rival) is not: for both, VND-1 does not exist.
"""

from __future__ import annotations

from sqlalchemy import select

from gateway.desk.status_links import status_token
from gateway.web.ticket import ACTIONS
from storage.models import Attachment, Message, Ticket
from tests.flows.world import customer_writes, dana_forwards_to_partner
from tests.web.conftest import RIVAL_AGENT, World

DANA, PAUL = "dana@vendor.example", "paul@partner.example"
INTERNAL_NOTE = "Paul, please send a technician."  # dana's forward, kept on VND-1 as an internal note


def _s2_handed_off(world: World) -> dict[str, list[int]]:
    """VND-1 and PTN-1; returns the ids of VND-1's messages and attachments."""
    customer_writes(world.runtime)
    dana_forwards_to_partner(world.runtime)
    with world.runtime.db.transaction() as session:
        vnd = session.scalar(select(Ticket).where(Ticket.ref == "VND-1"))
        messages = list(session.scalars(select(Message.id).where(Message.ticket_id == vnd.id)))
        files = list(session.scalars(select(Attachment.id).join(Message).where(Message.ticket_id == vnd.id)))
    assert messages and files
    return {"messages": messages, "files": files}


def test_another_accounts_agent_gets_404_for_every_route_of_vnd_1(world: World) -> None:
    ids = _s2_handed_off(world)
    dana = world.browser()
    assert dana.sign_in(world.runtime.config, DANA).status_code == 303
    assert dana.get("/t/VND-1").status_code == 200  # the owner sees it: the 404s below are about who asks
    assert dana.get(f"/t/VND-1/files/{ids['files'][0]}").status_code == 200

    for outsider in (PAUL, RIVAL_AGENT):
        desk = world.browser()
        assert desk.sign_in(world.runtime.config, outsider).status_code == 303
        assert desk.get("/t/VND-1").status_code == 404
        assert desk.get("/t/vnd-1").status_code == 404
        for message_id in ids["messages"]:
            assert desk.get(f"/t/VND-1/messages/{message_id}").status_code == 404
        for file_id in ids["files"]:
            assert desk.get(f"/t/VND-1/files/{file_id}").status_code == 404
        for action in ACTIONS:
            answer = desk.post(f"/t/VND-1/{action}", {"status": "closed", "text": "x", "partner": "fixit",
                                                      "child": "PTN-1", "rating": "1", "agent": "dana"})
            assert answer.status_code == 404, action
        chains = desk.get("/")
        assert chains.status_code == 200 and INTERNAL_NOTE not in chains.text
        assert "Printer jams" not in chains.text or outsider == PAUL  # paul's own PTN-1 carries the subject

    paul = world.browser()
    paul.sign_in(world.runtime.config, PAUL)
    ptn = paul.get("/t/PTN-1")
    assert ptn.status_code == 200 and 'href="/t/VND-1"' not in ptn.text  # VND-1 shown, never linked
    for message_id in ids["messages"]:  # VND-1's ids under paul's own ticket's URL
        assert paul.get(f"/t/PTN-1/messages/{message_id}").status_code == 404
    for file_id in ids["files"]:
        assert paul.get(f"/t/PTN-1/files/{file_id}").status_code == 404
    assert "VND-1" in paul.get("/").text, "of a chain, other accounts' tickets show ref, account and status"

    with world.runtime.db.transaction() as session:
        vnd = session.scalar(select(Ticket).where(Ticket.ref == "VND-1"))
        assert vnd.status == "open", "no outsider's post changed VND-1"


def test_a_status_link_shows_its_ticket_only(world: World) -> None:
    _s2_handed_off(world)
    secret = world.runtime.config.security.secret
    with world.runtime.db.transaction() as session:
        token = status_token(session, secret, session.scalar(select(Ticket).where(Ticket.ref == "VND-1")))
        other = status_token(session, secret, session.scalar(select(Ticket).where(Ticket.ref == "PTN-1")))
    customer = world.browser()
    page = customer.get(f"/s/{token}")
    assert page.status_code == 200
    assert "VND-1" in page.text and "the printer jams on tray 2" in page.text
    assert "PTN-1" not in page.text and INTERNAL_NOTE not in page.text
    assert "With our service partner" in page.text
    link_id, nonce, signature = token[1:].split("-")
    forged = [f"s{int(link_id, 16) + 1:x}-{nonce}-{signature}", f"s{link_id}-{nonce}-{'0' * 16}",
              other[:-1] + ("0" if other[-1] != "0" else "1"), "nothing"]
    for bad in forged:
        assert customer.get(f"/s/{bad}").status_code == 404, bad
    assert customer.get("/t/VND-1").status_code == 303, "a status link signs nobody in"

    dana = world.browser()
    dana.sign_in(world.runtime.config, DANA)
    assert dana.post("/t/VND-1/status-link/revoke").status_code == 303
    assert customer.get(f"/s/{token}").status_code == 404, "a revoked link shows nothing"

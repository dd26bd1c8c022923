"""The link state machine and the chain line, on real tables."""

from __future__ import annotations

import pytest

from gateway.desk import links
from gateway.desk.chain import chain_entries, chain_headers, chain_line
from gateway.desk.tickets import change_status, open_ticket
from storage import repositories
from storage.models import Event


def _chain(session, slugs):
    tickets = [open_ticket(session, repositories.account_by_slug(session, slug), "Printer jams") for slug in slugs]
    for parent, child in zip(tickets, tickets[1:]):
        links.create_link(session, parent, child, actor="dana@vendor.example")
    return tickets


def test_a_link_walks_its_states_and_records_events_on_both_tickets(runtime) -> None:
    with runtime.db.transaction() as session:
        vnd, ptn = _chain(session, ["vendor", "partner"])
        link = repositories.parent_link(session, ptn.id)
        links.transition(session, link, links.ACCEPTED, actor="paul@partner.example")
        links.transition(session, link, links.RESOLVED, actor="paul@partner.example")
        links.rate(session, link, 4, "quick, but no call ahead", actor="dana@vendor.example")
        session.flush()
        types = [e.type for e in session.query(Event).filter(Event.link_id == link.id).order_by(Event.id)]
        assert (link.state, link.rating, link.rating_comment) == ("rated", 4, "quick, but no call ahead")
        assert link.accepted_at and link.resolved_at and link.rated_at
        assert types == [t for t in ("link_handed_off", "link_accepted", "link_resolved", "link_rated") for _ in (0, 1)]


def test_impossible_transitions_are_refused_with_a_readable_reason(sqlite_runtime) -> None:
    with sqlite_runtime.db.transaction() as session:
        _, ptn = _chain(session, ["vendor", "partner"])
        link = repositories.parent_link(session, ptn.id)
        with pytest.raises(links.LinkTransitionError, match="VND-1 → PTN-1 is handed off; it cannot become rated"):
            links.rate(session, link, 5, None, actor=None)
        links.transition(session, link, links.RECALLED, actor=None)
        assert not links.can_transition(link, links.ACCEPTED)
        with pytest.raises(ValueError, match="from 1 to 5"):
            links.rate(session, link, 7, None, actor=None)


def test_the_chain_line_shows_every_ticket_with_account_and_status(sqlite_runtime) -> None:
    with sqlite_runtime.db.transaction() as session:
        vnd, ptn, sub = _chain(session, ["vendor", "partner", "subco"])
        change_status(session, vnd, "open", by=None)
        change_status(session, sub, "resolved", by=None)
        line = "VND-1 (Vendor Ltd, open) → PTN-1 (Partner GmbH, new) → SUB-1 (Subco Field Service, resolved)"
        assert {chain_line(session, t) for t in (vnd, ptn, sub)} == {line}
        assert [e.to_json()["depth"] for e in chain_entries(session, sub)] == [0, 1, 2]
        assert chain_headers(ptn, chain_entries(session, ptn)) == {
            "X-Relaydesk-Status": "new",
            "X-Relaydesk-Chain": "VND-1=open, PTN-1=new, SUB-1=resolved",
        }


def test_a_branching_chain_shows_only_the_paths_through_the_ticket(sqlite_runtime) -> None:
    with sqlite_runtime.db.transaction() as session:
        vnd, ptn = _chain(session, ["vendor", "partner"])
        fix = open_ticket(session, repositories.account_by_slug(session, "fixit"), "Printer jams")
        links.create_link(session, vnd, fix, actor=None)
        assert chain_line(session, fix) == "VND-1 (Vendor Ltd, new) → FIX-1 (FixIt Repairs, new)"
        assert chain_line(session, vnd).count("; ") == 1
        assert [e.ref for e in chain_entries(session, fix)] == ["VND-1", "PTN-1", "FIX-1"]

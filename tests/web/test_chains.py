"""The Chains screen's filters, search and deadlines, over HTTP on the S2 world after the handoff."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.deadline_models import Deadline
from storage.models import Link, utcnow
from tests.flows.world import customer_writes, dana_forwards_to_partner
from tests.web.conftest import World


def _rows(page_text: str) -> bool:
    return 'href="/t/VND-1"' in page_text


def test_filters_search_and_overdue(world: World) -> None:
    customer_writes(world.runtime)
    dana_forwards_to_partner(world.runtime)
    dana = world.browser()
    dana.sign_in(world.runtime.config, "dana@vendor.example")
    shown = {query: _rows(dana.get(f"/?{query}").text) for query in (
        "", "q=alice", "q=vnd-1", "q=tray+2", "q=nobody", "waiting=partner", "waiting=us", "partner=partner",
        "partner=fixit", "status=closed", "status=all", "overdue=1", "page=99")}
    assert shown == {"": True, "q=alice": True, "q=vnd-1": True, "q=tray+2": True, "q=nobody": False,
                     "waiting=partner": True, "waiting=us": False, "partner=partner": True, "partner=fixit": False,
                     "status=closed": False, "status=all": True, "overdue=1": False, "page=99": True}
    page = dana.get("/").text
    assert "Partner GmbH" in page and "PTN-1" in page and "handed off" in page

    with world.runtime.db.transaction() as session:  # the partner's accept deadline ran out an hour ago
        link = session.scalar(select(Link))
        past = utcnow() - timedelta(hours=1)
        session.add(Deadline(link_id=link.id, kind="accept", state="running", allowed_seconds=3600.0,
                             spent_seconds=0.0, running_since=past - timedelta(hours=1), due_at=past, terms={}))
    overdue = dana.get("/?overdue=1").text
    assert _rows(overdue) and "overdue" in overdue and "breached" in overdue
    assert "breached" in dana.get("/t/VND-1").text


def test_partners_page_and_its_csv(world: World) -> None:
    customer_writes(world.runtime)
    dana_forwards_to_partner(world.runtime)
    dana = world.browser()
    dana.sign_in(world.runtime.config, "dana@vendor.example")
    page = dana.get("/partners")
    assert page.status_code == 200 and "Partner GmbH" in page.text and "<svg" in page.text
    csv = dana.get("/partners.csv?period=all")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    header, row = csv.text.strip().splitlines()
    assert header.startswith("partner,partner_name,handed_by") and row.startswith("partner,Partner GmbH,vendor,")
    paul = world.browser()
    paul.sign_in(world.runtime.config, "paul@partner.example")
    assert "No handoffs yet" in paul.get("/partners").text, "paul's account handed nothing over"


def test_the_partners_page_shows_the_share_within_terms_and_the_breaches(world: World) -> None:
    customer_writes(world.runtime)
    dana_forwards_to_partner(world.runtime)
    with world.runtime.db.transaction() as session:  # Partner missed accepting; the resolve clock was stopped
        link = session.scalar(select(Link))
        for kind, state in (("accept", "breached"), ("resolve", "stopped")):
            session.add(Deadline(link_id=link.id, kind=kind, state=state, allowed_seconds=3600.0,
                                 spent_seconds=3600.0, terms={}))
    dana = world.browser()
    dana.sign_in(world.runtime.config, "dana@vendor.example")
    page = dana.get("/partners").text
    assert "0%" in page and "within terms" in page and "1 accept · 0 resolve breaches" in page

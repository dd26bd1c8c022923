"""`relaydesk chain` timings on a three-level chain with fixed timestamps."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from gateway.cli.main import app
from gateway.core.config import load_config
from gateway.core.runtime import Runtime
from gateway.desk.timings import (
    MessageFact,
    TicketNotFound,
    chain_timings,
    first_response_at,
)
from storage.models import Event, Ticket
from tests.conftest import demo_config_text
from tests.desk.world import World, at

NOW = at(10 * 3600)


def build(world: World) -> None:
    """VND-1 (alice) → PTN-1 → SUB-1 (open), plus a recalled FIX-1 under VND-1."""
    vnd = world.ticket("vendor", at(0), requester="alice@client.example")
    world.message(vnd, at(0), "alice@client.example")
    world.message(vnd, at(120), "alice@client.example")  # the requester again: not a response
    world.message(vnd, at(300), "dana@vendor.example", visibility="internal")  # internal: not a response
    ptn = world.ticket("partner", at(600), requester="dana@vendor.example")
    world.link(vnd, ptn, at(600), accepted=at(1500), resolved=at(9000))
    world.message(ptn, at(1500), "paul@partner.example")
    world.message(vnd, at(1500), "paul@partner.example", visibility="partner")  # mirrored up: first response
    sub = world.ticket("subco", at(2000), requester="paul@partner.example")
    world.link(ptn, sub, at(2000))
    world.status(ptn, at(9000), "resolved")
    fix = world.ticket("fixit", at(700))
    recalled = world.link(vnd, fix, at(700), state="recalled")
    world.session.add(Event(ticket_id=fix.id, link_id=recalled.id, type="link_recalled", detail={}, at=at(1900)))


def test_each_ticket_and_link_is_timed(runtime: Runtime) -> None:
    with runtime.db.transaction() as session:
        build(World(session))
    with runtime.db.transaction() as session:
        timings = chain_timings(session, "sub-1", now=NOW)
    nodes = {n.ref: n for n in timings.nodes}
    assert [(n.ref, n.depth, n.parent) for n in timings.nodes] == [
        ("VND-1", 0, None), ("PTN-1", 1, "VND-1"), ("SUB-1", 2, "PTN-1"), ("FIX-1", 1, "VND-1")
    ]
    assert timings.root == "VND-1" and timings.ref == "SUB-1"
    assert nodes["VND-1"].time_to_first_response == 1500
    assert nodes["VND-1"].link is None and nodes["VND-1"].held_by == "vendor"  # PTN-1 resolved, FIX-1 recalled
    ptn = nodes["PTN-1"]
    assert ptn.time_to_first_response == 900  # paul, 15 min after the handoff
    assert (ptn.link.time_to_accept, ptn.link.time_to_resolve, ptn.link.held) == (900, 8400, 8400)
    assert ptn.time_to_resolve == 8400 and ptn.held_by == "subco"
    sub = nodes["SUB-1"]
    assert sub.link.state == "handed_off" and sub.link.time_to_accept is None
    assert sub.link.held == 10 * 3600 - 2000  # still with subco at NOW
    assert sub.time_to_first_response is None and sub.held_by == "subco"
    assert nodes["FIX-1"].link.state == "recalled" and nodes["FIX-1"].link.held == 1200  # until the recall


def test_json_shape(sqlite_runtime: Runtime) -> None:
    with sqlite_runtime.db.transaction() as session:
        build(World(session))
        document = chain_timings(session, "VND-1", now=NOW).to_json()
    assert set(document) == {"ref", "root", "tickets"}
    ptn = document["tickets"][1]
    assert ptn["link"]["handed_off_at"] == "2026-03-01T09:10:00Z"
    assert ptn["link"]["time_to_accept_seconds"] == 900
    assert ptn["children"] == ["SUB-1"] and document["tickets"][0]["children"] == ["PTN-1", "FIX-1"]
    json.dumps(document)  # serialisable as is


def test_unknown_ref(sqlite_runtime: Runtime) -> None:
    with sqlite_runtime.db.transaction() as session, pytest.raises(TicketNotFound):
        chain_timings(session, "VND-999")


def test_outbound_reply_counts_as_first_response() -> None:
    start = at(0)
    facts = [
        MessageFact("in", "public", "alice@client.example", start),
        MessageFact("out", "auto", None, start + timedelta(seconds=1)),  # the acknowledgement
        MessageFact("out", "public", "support@vendor.example", start + timedelta(seconds=50)),
    ]
    assert first_response_at(start, facts, {"alice@client.example"}) == start + timedelta(seconds=50)


def test_cli_chain(tmp_path: Path) -> None:
    config_file = tmp_path / "relaydesk.toml"
    config_file.write_text(demo_config_text(tmp_path), encoding="utf-8")
    runtime = Runtime.open(load_config(config_file))
    with runtime.db.transaction() as session:
        build(World(session))
    runtime.close()
    runner = CliRunner()
    result = runner.invoke(app, ["chain", "PTN-1", "--json", "--config", str(config_file)])
    assert result.exit_code == 0, result.output
    assert [t["ref"] for t in json.loads(result.stdout)["tickets"]] == ["VND-1", "PTN-1", "SUB-1", "FIX-1"]
    table = runner.invoke(app, ["chain", "PTN-1", "--config", str(config_file)], env={"COLUMNS": "200"})
    assert table.exit_code == 0 and "15m 00s" in table.stdout  # PTN-1 accepted after 900 s
    missing = runner.invoke(app, ["chain", "PTN-9", "--config", str(config_file)])
    assert missing.exit_code == 1 and "no ticket PTN-9" in missing.output


def test_recorded_first_response_event_counts(sqlite_runtime: Runtime) -> None:
    with sqlite_runtime.db.transaction() as session:
        world = World(session)
        build(world)
        vnd = session.scalar(select(Ticket).where(Ticket.ref == "VND-1"))
        session.add(Event(ticket_id=vnd.id, type="first_response", detail={}, at=at(1000)))
        session.flush()
        nodes = {n.ref: n for n in chain_timings(session, "VND-1", now=NOW).nodes}
    assert nodes["VND-1"].time_to_first_response == 1000  # before the mirrored partner reply at 1500

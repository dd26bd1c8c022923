"""X-Relaydesk-* headers from another installation: decoded leniently, applied narrowly."""

from __future__ import annotations

from sqlalchemy import select

from gateway.federation import (
    ChainHop,
    apply_remote,
    decode_chain,
    encode_chain,
    external_id_for,
    read_remote,
)
from gateway.runtime import Runtime
from gateway.tickets import change_status
from parsers import parse_message
from storage.models import Event
from tests.reports.world import T0, World


def mail(sender: str, headers: dict[str, str], extra: str = "") -> bytes:
    lines = [f"From: {sender}", "To: support@vendor.example", "Subject: Update", "Message-ID: <m1@other.example>"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + f"\r\n{extra}\r\nDone.\r\n").encode()


def test_chain_round_trip_and_junk() -> None:
    hops = (ChainHop("VND-1", "open"), ChainHop("PTN-12", "resolved"))
    assert decode_chain(encode_chain(hops)) == hops
    assert decode_chain(" vnd-1 = open ,garbage, X=1, PTN-2=flying, SUB-3=closed,") == (
        ChainHop("VND-1", "open"), ChainHop("SUB-3", "closed")
    )
    assert decode_chain(None) == () and decode_chain("") == ()
    assert len(decode_chain(", ".join(f"A-{i}=open" for i in range(500)))) == 64


def test_read_remote() -> None:
    parsed = parse_message(mail("jobs@fixit.example", {
        "X-Relaydesk-Ticket": "fx-7", "X-Relaydesk-Status": "Resolved", "X-Relaydesk-Chain": "FX-7=resolved"}))
    remote = read_remote(parsed)
    assert remote is not None and (remote.ref, remote.status) == ("FX-7", "resolved")
    assert remote.external_id == "relaydesk:FX-7"
    no_status = read_remote(parse_message(mail("a@b.example", {"X-Relaydesk-Ticket": "FX-7", "X-Relaydesk-Chain": "FX-7=pending"})))
    assert no_status.status == "pending"
    assert read_remote(parse_message(mail("a@b.example", {"X-Relaydesk-Ticket": "not a ref; DROP"}))) is None
    assert read_remote(parse_message(mail("a@b.example", {}))) is None


def _child_of_vendor(world: World):
    vnd = world.ticket("vendor", T0, requester="alice@client.example")
    fix = world.ticket("fixit", T0, status="open", requester="dana@vendor.example")
    link = world.link(vnd, fix, T0)
    return vnd, fix, link


def test_executor_resolves_our_child_and_the_ref_is_learnt(sqlite_runtime: Runtime) -> None:
    calls = []

    def resolve(session, ticket, status, by):
        calls.append((ticket.ref, status, by))
        change_status(session, ticket, status, by)

    with sqlite_runtime.db.transaction() as session:
        _, fix, _ = _child_of_vendor(World(session))
        parsed = parse_message(mail("jobs@fixit.example", {"X-Relaydesk-Ticket": "FX-7", "X-Relaydesk-Status": "resolved"}))
        update = apply_remote(session, fix, parsed, resolve)
        assert (update.learnt_ref, update.status_before, update.status_after) == ("FX-7", "open", "resolved")
        assert fix.external_id == external_id_for("FX-7") and calls == [("FIX-1", "resolved", "jobs@fixit.example")]
        again = apply_remote(session, fix, parsed, resolve)  # already resolved: nothing more
        assert again.status_after is None and len(calls) == 1


def test_claims_from_others_change_nothing(sqlite_runtime: Runtime) -> None:
    def must_not_be_called(*_args):
        raise AssertionError("status must not change")

    with sqlite_runtime.db.transaction() as session:
        world = World(session)
        vnd, fix, _ = _child_of_vendor(world)
        resolved = {"X-Relaydesk-Ticket": "FX-7", "X-Relaydesk-Status": "resolved"}
        # a stranger, and the customer of the root ticket (a requester, but of a root: no executor to follow)
        for sender, ticket in (("mallory@evil.example", fix), ("mallory@evil.example", vnd)):
            assert apply_remote(session, ticket, parse_message(mail(sender, resolved)), must_not_be_called).learnt_ref is None
        assert fix.external_id is None and vnd.external_id is None
        alice_says = apply_remote(session, vnd, parse_message(mail("alice@client.example", resolved)), must_not_be_called)
        assert alice_says.learnt_ref == "FX-7" and vnd.status == "open"  # learnt, but a requester never resolves
        # the executor, but speaking for another remote ticket than the one learnt
        fix.external_id = external_id_for("FX-1")
        other = {"X-Relaydesk-Ticket": "FX-2", "X-Relaydesk-Status": "resolved"}
        assert apply_remote(session, fix, parse_message(mail("jobs@fixit.example", other)), must_not_be_called).learnt_ref is None
        # an automatic mail from the executor
        auto = parse_message(mail("jobs@fixit.example", {**resolved, "X-Relaydesk-Ticket": "FX-1", "Auto-Submitted": "auto-replied"}))
        assert apply_remote(session, fix, auto, must_not_be_called).status_after is None
        assert fix.status == "open"
        assert not list(session.scalars(select(Event).where(Event.type == "remote_status")))

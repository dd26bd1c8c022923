"""X-Relaydesk-* headers from another installation: decoded leniently, applied narrowly."""

from __future__ import annotations

from sqlalchemy import select

from gateway.core.runtime import Runtime
from gateway.desk.tickets import change_status
from gateway.pipeline.federation import (
    ChainHop,
    apply_remote,
    decode_chain,
    encode_chain,
    external_id_for,
    read_remote,
    ticket_for_remote,
)
from parsers import parse_message
from storage.models import Account, Event
from tests.desk.world import T0, World

RESOLVED = {"X-Relaydesk-Ticket": "FX-7", "X-Relaydesk-Status": "resolved"}


def mail(sender: str, headers: dict[str, str], extra: str = "") -> bytes:
    lines = [f"From: {sender}", "To: support@vendor.example", "Subject: Update", "Message-ID: <m1@other.example>"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + f"\r\n{extra}\r\nDone.\r\n").encode()


def must_not_change(*_args) -> None:
    raise AssertionError("status must not change")


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
    assert remote.external_id == "relaydesk:fixit.example:FX-7"
    no_status = read_remote(parse_message(mail("a@b.example", {"X-Relaydesk-Ticket": "FX-7", "X-Relaydesk-Chain": "FX-7=pending"})))
    assert no_status.status == "pending"
    assert read_remote(parse_message(mail("a@b.example", {"X-Relaydesk-Ticket": "not a ref; DROP"}))) is None
    assert read_remote(parse_message(mail("a@b.example", {}))) is None


def _child_of_vendor(world: World):
    vnd = world.ticket("vendor", T0, requester="alice@client.example")
    fix = world.ticket("fixit", T0, status="open", requester="dana@vendor.example")
    world.link(vnd, fix, T0)
    return vnd, fix


def test_executor_resolves_our_child_and_later_mail_threads_by_the_ref(sqlite_runtime: Runtime) -> None:
    calls = []

    def resolve(session, ticket, status, by):
        calls.append((ticket.ref, status, by))
        change_status(session, ticket, status, by)

    with sqlite_runtime.db.transaction() as session:
        _, fix = _child_of_vendor(World(session))
        parsed = parse_message(mail("jobs@fixit.example", RESOLVED))
        update = apply_remote(session, fix, parsed, "executor", resolve)
        assert (update.learnt_ref, update.status_before, update.status_after) == ("FX-7", "open", "resolved")
        assert fix.external_id == external_id_for("fixit.example", "FX-7") and calls == [("FIX-1", "resolved", "jobs@fixit.example")]
        assert apply_remote(session, fix, parsed, "executor", resolve).status_after is None  # already resolved
        assert len(calls) == 1
        vendor, partner = (session.scalar(select(Account).where(Account.slug == s)) for s in ("vendor", "partner"))
        assert ticket_for_remote(session, vendor, parsed) is fix  # kept by vendor on fixit's behalf
        assert ticket_for_remote(session, partner, parsed) is None  # never across accounts
        namesake = parse_message(mail("jobs@other-installation.example", RESOLVED))  # numbers FX-… too
        assert ticket_for_remote(session, vendor, namesake) is None


def test_claims_from_others_change_nothing(sqlite_runtime: Runtime) -> None:
    with sqlite_runtime.db.transaction() as session:
        vnd, fix = _child_of_vendor(World(session))
        assert apply_remote(session, fix, parse_message(mail("mallory@evil.example", RESOLVED)), None, must_not_change).learnt_ref is None
        assert fix.external_id is None
        # the requester of a child is heard for the ref, never for the status
        assert apply_remote(session, fix, parse_message(mail("dana@vendor.example", RESOLVED)), "requester", must_not_change).learnt_ref == "FX-7"
        # a root ticket has no executor to follow, whoever claims to be one
        assert apply_remote(session, vnd, parse_message(mail("alice@client.example", RESOLVED)), "executor", must_not_change).status_after is None
        # the executor, speaking for another remote ticket than the one learnt
        other = {"X-Relaydesk-Ticket": "FX-2", "X-Relaydesk-Status": "resolved"}
        assert apply_remote(session, fix, parse_message(mail("jobs@fixit.example", other)), "executor", must_not_change).learnt_ref is None
        # an automatic mail from the executor
        auto = parse_message(mail("jobs@fixit.example", {**RESOLVED, "Auto-Submitted": "auto-replied"}))
        assert apply_remote(session, fix, auto, "executor", must_not_change).status_after is None
        assert fix.status == "open" and vnd.status == "open"
        assert not list(session.scalars(select(Event).where(Event.type == "remote_status")))


def test_body_markers_leave_the_text_for_elided() -> None:
    from gateway.core.tokens import make_body_marker, split_body_markers

    theirs = make_body_marker("another-installations-secret", "JOB-1")
    assert split_body_markers(f"Technician booked\n\n{theirs}\n") == ("Technician booked", [theirs])
    assert split_body_markers(f"a\n\n{theirs}\n\n\nb") == ("a\n\nb", [theirs])
    assert split_body_markers("no marker [ref:JOB-1:short]") == ("no marker [ref:JOB-1:short]", [])

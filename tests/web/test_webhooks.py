"""Webhooks over real HTTP: each event once per change, signed; a receiver that was down gets it by retry."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import select, update

from gateway.app import tasks
from gateway.core.runtime import Runtime
from gateway.app.timer_sweeper import TimerSweeper
from gateway.app.timers import timer_handlers
from storage.deadline_models import Timer
from storage.models import OutboxItem, utcnow
from tests.e2e.harness import free_port, wait_until
from tests.smtp_sink import SmtpSink
from tests.web.desk_client import client, start_desk
from tests.web.conftest import open_ticket
from tests.web.live import WEBHOOK_SECRET, LiveApi, web_config
from tests.web.receiver import Receiver


@pytest.fixture
def hook_port() -> int:
    return free_port()


@pytest.fixture
def api(db_url: str, tmp_path: Path, sink: SmtpSink, hook_port: int) -> Iterator[LiveApi]:
    runtime = Runtime.open(web_config(tmp_path, db_url, sink.port, f"http://127.0.0.1:{hook_port}/hook"))
    try:
        with LiveApi(runtime) as live:
            yield live
    finally:
        runtime.close()


def test_each_change_is_delivered_once_and_signed(api: LiveApi, hook_port: int) -> None:
    with Receiver(hook_port, WEBHOOK_SECRET) as receiver:
        open_ticket(api)
        client = api.client(api.token("vendor"))
        client.post("/api/v1/tickets/VND-1/messages", json={"text": "On it."})
        client.post("/api/v1/tickets/VND-1/handoff", json={"partner": "partner"})
        api.client(api.token("partner")).post("/api/v1/tickets/PTN-1/status", json={"status": "resolved"})
        api.settle()
        # Alice's mail; the API reply (which also opens the ticket); the handoff and the dispatcher's note of it;
        # the partner resolving its child.
        wanted = Counter({"ticket.created": 1, "message.created": 3, "ticket.status_changed": 1, "link.changed": 2})
        received = receiver.wait_for(lambda got: Counter(r.body["type"] for r in got) == wanted)
        time.sleep(1.0)  # nothing more trickles in
        assert Counter(r.body["type"] for r in receiver.received) == wanted
    assert all(r.signature_ok for r in received)
    assert len({r.body["id"] for r in received}) == len(received)  # each event once
    assert {r.body["account"] for r in received} == {"vendor"}  # the partner's own tickets are not told
    assert {r.body["ticket"]["ref"] for r in received} == {"VND-1"}
    states = [r.body["data"]["event"] for r in received if r.body["type"] == "link.changed"]
    assert sorted(states) == ["link_handed_off", "link_resolved"]
    created = next(r for r in received if r.body["type"] == "message.created")
    assert created.body["data"]["message"]["from"] == "alice@client.example"
    assert created.headers["X-Relaydesk-Event"] == "message.created"


def test_a_receiver_that_is_down_gets_the_event_by_retry(api: LiveApi, hook_port: int) -> None:
    open_ticket(api)  # nothing listens on the webhook's port yet

    def tried_twice() -> bool:
        with api.runtime.db.transaction() as session:
            return all(i.attempts >= 2 for i in session.scalars(select(OutboxItem).where(OutboxItem.channel == "webhook")))
    wait_until(tried_twice, 20, "two failed tries of each webhook delivery")
    with Receiver(hook_port, WEBHOOK_SECRET) as receiver:
        received = receiver.wait_for(lambda got: len(got) == 2)
        time.sleep(1.0)
        assert sorted(r.body["type"] for r in receiver.received) == ["message.created", "ticket.created"]
    assert all(r.signature_ok for r in received)
    with api.runtime.db.transaction() as session:
        items = list(session.scalars(select(OutboxItem).where(OutboxItem.channel == "webhook")))
    assert {i.status for i in items} == {"sent"} and all(i.attempts >= 2 for i in items)


def test_a_refusing_receiver_is_a_failed_delivery_told_by_health(api: LiveApi, hook_port: int) -> None:
    with Receiver(hook_port, WEBHOOK_SECRET, status=410):
        open_ticket(api)
        wait_until(lambda: _statuses(api) == {"failed"}, 20, "the deliveries to fail")
    health = api.client().get("/api/v1/health").json()
    hooks = next(c for c in health["components"] if c["name"] == "webhooks")
    assert hooks["state"] == "slow" and "2 failed" in hooks["detail"]


def _statuses(api: LiveApi) -> set[str]:
    with api.runtime.db.transaction() as session:
        return {i.status for i in session.scalars(select(OutboxItem).where(OutboxItem.channel == "webhook"))}


def test_a_missed_deadline_is_announced_and_counted(db_url: str, tmp_path: Path, sink: SmtpSink,
                                                    hook_port: int) -> None:
    """Partner terms' breach, fired by the timer sweeper, reaches the webhook at once and counts in the metrics."""
    config = web_config(tmp_path, db_url, sink.port, f"http://127.0.0.1:{hook_port}/hook",
                        accounts_terms={"vendor": {"accept_within": "4h"}})
    runtime = Runtime.open(config)
    try:
        with LiveApi(runtime) as live, Receiver(hook_port, WEBHOOK_SECRET) as receiver:
            open_ticket(live)
            assert live.client(live.token("vendor")).post(
                "/api/v1/tickets/VND-1/handoff", json={"partner": "partner"}).status_code == 201
            with runtime.db.transaction() as session:  # the accept deadline runs out now
                session.execute(update(Timer).where(Timer.kind == "breach").values(due_at=utcnow()))
            fired = TimerSweeper(runtime, timer_handlers(runtime), interval=1.0,
                                 enqueue_outbox=tasks.enqueue_outbox).sweep()
            assert fired.fired == 1
            live.settle()
            got = receiver.wait_for(lambda r: any(x.body["type"] == "deadline.breached" for x in r))
            breached = [r for r in got if r.body["type"] == "deadline.breached"]
            assert len(breached) == 1 and breached[0].body["ticket"]["ref"] == "VND-1"
            assert breached[0].body["data"]["kind"] == "accept"
            metrics = live.client().get("/metrics").text
            assert 'relaydesk_deadline_breaches_total{account="vendor",partner="partner"} 1.0' in metrics
    finally:
        runtime.close()


def test_a_reply_from_the_desk_reaches_the_webhook_at_once(db_url: str, tmp_path: Path, sink: SmtpSink,
                                                           hook_port: int) -> None:
    """The desk's writes enqueue their webhook deliveries after commit, as mail and API writes do (this
    live API's worker runs no sweeper: only an enqueued delivery can arrive)."""
    config = web_config(tmp_path, db_url, sink.port, f"http://127.0.0.1:{hook_port}/hook",
                        web={"listen": "127.0.0.1:0", "base_url": "http://desk.test"})
    runtime = Runtime.open(config)
    try:
        with LiveApi(runtime) as live, ExitStack() as stack, Receiver(hook_port, WEBHOOK_SECRET) as receiver:
            dana = client(stack, start_desk(stack, runtime))
            open_ticket(live)
            receiver.wait_for(lambda got: len(got) == 2)
            assert dana.sign_in(runtime.config, "dana@vendor.example").status_code == 303
            assert dana.post("/t/VND-1/reply", {"text": "From the desk"}).status_code == 303
            got = receiver.wait_for(lambda got: len(got) >= 4, timeout=15)  # the reply, and the ticket opened by it
            assert Counter(r.body["type"] for r in got) == {"ticket.created": 1, "message.created": 2,
                                                           "ticket.status_changed": 1}
    finally:
        runtime.close()

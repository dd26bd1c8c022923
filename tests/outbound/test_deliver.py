"""deliver(): sent once, retried with backoff, failed for good with the agents told."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from gateway.core.runtime import Runtime
from gateway.core.tokens import make_verp_address, read_verp_address
from gateway.desk.participants import add_participant
from gateway.desk.tickets import open_ticket
from gateway.outbound.delivery import (
    MAX_RETRY_DELAY_SECONDS,
    TRANSPORTS,
    Outgoing,
    deliver,
    release_leases,
    retry_delay,
)
from gateway.outbound.outbox import queue_mail, rendered_mail, return_path
from parsers.message import Address
from storage.models import Account, Link, OutboxItem, utcnow
from tests.outbound.conftest import closed_port
from tests.outbound.helpers import events, notices, outbox, queued_mail
from tests.smtp_sink import SmtpSink


def _point_smarthost_at(runtime: Runtime, port: int) -> None:
    runtime.config = runtime.config.model_copy(
        update={"outbound": runtime.config.outbound.model_copy(update={"smarthost": f"127.0.0.1:{port}"})}
    )


def _make_due(runtime: Runtime, outbox_id: int) -> None:
    """Pretend the backoff has passed."""
    with runtime.db.transaction() as session:
        session.get(OutboxItem, outbox_id).next_attempt_at = utcnow() - timedelta(seconds=1)


def test_sent_once_and_idempotent(relay_runtime: Runtime, sink: SmtpSink) -> None:
    outbox_id = queued_mail(relay_runtime)
    assert deliver(relay_runtime, outbox_id) is None
    item = outbox(relay_runtime, outbox_id)
    assert item.status == "sent" and item.sent_at is not None and item.attempts == 0
    [mail] = sink.mails
    assert item.envelope_from == "bounces@vendor.example", "the bounce mailbox, tagged only when sent"
    assert mail.mail_from.startswith(f"bounces+{item.id}-") and mail.mail_from.endswith("@vendor.example")
    assert read_verp_address(relay_runtime.config.security.secret, mail.mail_from) == item.id
    assert mail.rcpt_tos == ("alice@client.example",)
    assert mail.parsed()["Message-ID"] == item.rfc_message_id
    assert deliver(relay_runtime, outbox_id) is None
    assert len(sink.mails) == 1
    assert outbox(relay_runtime, outbox_id).sent_at == item.sent_at


def test_smarthost_down_then_back(relay_runtime: Runtime, sink: SmtpSink) -> None:
    outbox_id = queued_mail(relay_runtime)
    _point_smarthost_at(relay_runtime, closed_port())
    delay = deliver(relay_runtime, outbox_id)
    assert delay is not None and 8 <= delay <= 12  # retry_base_seconds=10 with ±20% jitter
    item = outbox(relay_runtime, outbox_id)
    assert item.status == "pending" and item.attempts == 1 and "smarthost" in item.error
    assert item.next_attempt_at > utcnow()
    # Called again before the backoff ran out (e.g. by a sweeper): waits, sends nothing.
    assert 0 < deliver(relay_runtime, outbox_id) <= delay
    assert outbox(relay_runtime, outbox_id).attempts == 1

    _point_smarthost_at(relay_runtime, sink.port)
    _make_due(relay_runtime, outbox_id)
    assert deliver(relay_runtime, outbox_id) is None
    assert outbox(relay_runtime, outbox_id).status == "sent"
    assert len(sink.mails) == 1


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    for attempts in (1, 2, 3, 4):
        nominal = 10 * 2 ** (attempts - 1)
        assert 0.8 * nominal <= retry_delay(attempts, 10) <= 1.2 * nominal
    assert retry_delay(50, 10) <= MAX_RETRY_DELAY_SECONDS * 1.2


def test_gives_up_after_max_attempts(relay_runtime: Runtime, sink: SmtpSink) -> None:
    outbox_id = queued_mail(relay_runtime)
    _point_smarthost_at(relay_runtime, closed_port())
    results, queued = [], []
    for _ in range(3):  # max_attempts = 3
        _make_due(relay_runtime, outbox_id)
        results.append(deliver(relay_runtime, outbox_id, on_queued=queued.append))
    assert results[0] is not None and results[1] is not None and results[2] is None
    item = outbox(relay_runtime, outbox_id)
    assert item.status == "failed" and item.attempts == 3 and "gave up after 3 attempts" in item.error
    [event] = events(relay_runtime, "delivery_failed")
    assert event.detail["recipient"] == "alice@client.example"
    assert [n.recipient for n in notices(relay_runtime)] == ["dana@vendor.example"]
    assert queued == [n.id for n in notices(relay_runtime)]


def test_permanent_failure_tells_the_agents_once(relay_runtime: Runtime) -> None:
    outbox_id = queued_mail(relay_runtime, to="nobody@client.example")
    with SmtpSink(reply=lambda envelope: "550 5.1.1 <nobody@client.example>: no such user") as refusing:
        _point_smarthost_at(relay_runtime, refusing.port)
        queued: list[int] = []
        assert deliver(relay_runtime, outbox_id, on_queued=queued.append) is None
    item = outbox(relay_runtime, outbox_id)
    assert item.status == "failed" and "550 5.1.1" in item.error
    [event] = events(relay_runtime, "delivery_failed")
    assert event.ticket_id == item.ticket_id
    assert event.detail == {"outbox_id": outbox_id, "recipient": "nobody@client.example", "kind": "reply",
                            "reason": item.error}
    [notice] = notices(relay_runtime)
    assert notice.recipient == "dana@vendor.example" and notice.ticket_id == item.ticket_id
    assert queued == [notice.id]
    body = rendered_mail(relay_runtime.blobs, notice).decode()
    assert "nobody@client.example" in body and "550 5.1.1" in body
    assert "Auto-Submitted: auto-replied" in body
    assert deliver(relay_runtime, outbox_id) is None
    assert len(notices(relay_runtime)) == 1


def test_no_notice_about_a_failed_notice(relay_runtime: Runtime) -> None:
    outbox_id = queued_mail(relay_runtime, to="dana@vendor.example", kind="notice")
    with SmtpSink(reply=lambda envelope: "554 5.7.1 rejected") as refusing:
        _point_smarthost_at(relay_runtime, refusing.port)
        deliver(relay_runtime, outbox_id)
    assert outbox(relay_runtime, outbox_id).status == "failed"
    assert len(events(relay_runtime, "delivery_failed")) == 1
    assert [n.id for n in notices(relay_runtime)] == [outbox_id]


def test_external_contractor_failure_tells_the_upstream_agents(relay_runtime: Runtime) -> None:
    with relay_runtime.db.transaction() as session:
        partner = session.scalar(select(Account).where(Account.slug == "partner"))
        subco = session.scalar(select(Account).where(Account.slug == "subco"))
        parent = open_ticket(session, partner, "Till broken")
        child = open_ticket(session, subco, "Till broken")
        session.add(Link(parent_ticket_id=parent.id, child_ticket_id=child.id))
        session.flush()
        sam = add_participant(session, child, "requester", Address("Sam", "sam@subco.example"))
        outbox_id = queue_mail(session, relay_runtime, child, sam, kind="handoff", text="Please fix").id
        parent_id = parent.id
    with SmtpSink(reply=lambda envelope: "550 5.1.1 unknown") as refusing:
        _point_smarthost_at(relay_runtime, refusing.port)
        deliver(relay_runtime, outbox_id)
    [notice] = notices(relay_runtime)
    assert notice.recipient == "paul@partner.example" and notice.ticket_id == parent_id


def test_items_of_a_channel_without_transport_are_left_alone(relay_runtime: Runtime, sink: SmtpSink) -> None:
    outbox_id = queued_mail(relay_runtime)
    with relay_runtime.db.transaction() as session:
        session.get(OutboxItem, outbox_id).channel = "whatsapp"
    assert deliver(relay_runtime, outbox_id) is None
    assert outbox(relay_runtime, outbox_id).status == "pending"
    assert sink.mails == []


def test_telegram_items_fail_clearly_without_a_bot(relay_runtime: Runtime, sink: SmtpSink) -> None:
    outbox_id = queued_mail(relay_runtime)
    with relay_runtime.db.transaction() as session:
        session.get(OutboxItem, outbox_id).channel = "telegram"
    assert deliver(relay_runtime, outbox_id) is None
    item = outbox(relay_runtime, outbox_id)
    assert item.status == "failed" and "no [telegram] section" in item.error


def test_a_registered_transport_sends_its_channel(relay_runtime: Runtime, sink: SmtpSink,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    outbox_id = queued_mail(relay_runtime)
    with relay_runtime.db.transaction() as session:
        session.get(OutboxItem, outbox_id).channel = "telegram"
    handed: list[Outgoing] = []
    monkeypatch.setitem(TRANSPORTS, "telegram", lambda runtime, outgoing: handed.append(outgoing))
    assert deliver(relay_runtime, outbox_id) is None
    assert [(o.outbox_id, o.channel) for o in handed] == [(outbox_id, "telegram")]
    assert outbox(relay_runtime, outbox_id).status == "sent" and sink.mails == []


def test_unknown_id_is_ignored(relay_runtime: Runtime) -> None:
    assert deliver(relay_runtime, 999_999) is None


def test_a_second_worker_waits_while_the_first_is_sending(relay_runtime: Runtime) -> None:
    outbox_id = queued_mail(relay_runtime)
    in_data, release = threading.Event(), threading.Event()

    def slow_smarthost(envelope: object) -> None:
        in_data.set()
        release.wait(30)

    with SmtpSink(reply=slow_smarthost) as slow:
        _point_smarthost_at(relay_runtime, slow.port)
        first = threading.Thread(target=deliver, args=(relay_runtime, outbox_id))
        first.start()
        assert in_data.wait(30)
        second = deliver(relay_runtime, outbox_id)  # e.g. a sweeper's duplicate message
        release.set()
        first.join(30)
        assert second is not None and second > 0
        assert len(slow.mails) == 1
    assert outbox(relay_runtime, outbox_id).status == "sent"
    assert deliver(relay_runtime, outbox_id) is None


def test_release_leases_makes_interrupted_first_sends_due_but_keeps_backoff(relay_runtime: Runtime) -> None:
    """After the embedded server restarts, a send its dead worker had leased goes out at once."""
    leased, backed_off = queued_mail(relay_runtime), queued_mail(relay_runtime, to="bob@client.example")
    later = utcnow() + timedelta(minutes=5)
    with relay_runtime.db.transaction() as session:
        session.get(OutboxItem, leased).next_attempt_at = later
        retry = session.get(OutboxItem, backed_off)
        retry.next_attempt_at, retry.attempts = later, 1

    assert release_leases(relay_runtime) == 1
    assert outbox(relay_runtime, leased).next_attempt_at <= utcnow()
    assert outbox(relay_runtime, backed_off).next_attempt_at > utcnow()


def test_return_path_of_rows_queued_before_tagging_moved_to_send_time() -> None:
    """Rows written when the VERP address was stored whole go out with the same address; '' stays null."""
    whole = make_verp_address("s3cret", "bounces@vendor.example", 7)
    assert return_path("s3cret", whole, 7) == whole == return_path("s3cret", "bounces@vendor.example", 7)
    assert return_path("s3cret", "", 7) == ""

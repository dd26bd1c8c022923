"""A firm's existing mailbox imported by `relaydesk serve`: history stays history, live mail is live.

Dovecot holds HISTORY customer mails from the past five weeks in INBOX and,
in Sent, the dispatcher's forward of one of them to the partner FixIt.
`serve` starts its first sync; live mail arrives during it and after it.
Afterwards: one ticket per history mail dated with the mail's own Date,
nothing at the sink but the live mails' acknowledgements (one each), the
historical forward linked to the right ticket at its historical time (and no
notice to the partner), new INBOX mail a ticket within 2 s while Sent is
watched too, and `show --json`, `chain --json` and `report partners` giving
the historical times.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from gateway.core.runtime import Runtime
from storage.models import InboxItem, Link, Message, OutboxItem, Ticket
from tests.channels.imap.dovecot import PASSWORD, dovecot
from tests.e2e.harness import wait_until
from tests.e2e.outcome import SUPPORT, wait_settled
from tests.e2e.processes import add_imap_mailbox, free_port, serving, write_config
from tests.smtp_sink import SmtpSink

HISTORY = 500
FORWARDED = 137  # the history mail the dispatcher forwarded to FixIt
LIVE_DURING, LIVE_AFTER = (9001, 9002, 9003), 9100
NOW = datetime.now(timezone.utc).replace(microsecond=0)
FIRST = NOW - timedelta(days=35)


def sent_at(i: int) -> datetime:
    """History mail i's Date: spread over the past five weeks, oldest first."""
    return FIRST + timedelta(minutes=100 * i)


def request(i: int, when: datetime) -> bytes:
    return (f"From: Customer {i} <customer{i}@client.example>\r\nTo: {SUPPORT}\r\n"
            f"Subject: Request {i}: printer jams\r\nMessage-ID: <request-{i}@client.example>\r\n"
            f"Date: {format_datetime(when)}\r\n\r\nPrinter number {i} jams on tray 2.\r\n").encode()


def forward(i: int, when: datetime) -> bytes:
    """Dana's forward of request i to FixIt, as a mail client leaves it in Sent."""
    return (f"From: Dana Dispatcher <dana@vendor.example>\r\nTo: jobs@fixit.example\r\n"
            f"Subject: Fwd: Request {i}: printer jams\r\nMessage-ID: <fwd-{i}@vendor.example>\r\n"
            f"Date: {format_datetime(when)}\r\n\r\nPlease send someone for this printer.\r\n\r\n"
            f"---------- Forwarded message ---------\r\nFrom: Customer {i} <customer{i}@client.example>\r\n"
            f"Date: {format_datetime(sent_at(i))}\r\nSubject: Request {i}: printer jams\r\nTo: <{SUPPORT}>\r\n\r\n"
            f"Printer number {i} jams on tray 2.\r\n").encode()


def count(runtime: Runtime, query) -> int:
    with runtime.db.transaction() as session:
        return session.scalar(query)


@pytest.mark.slow
def test_a_mailbox_with_history_is_imported_without_a_mail_to_anyone(tmp_path: Path) -> None:
    with dovecot([SUPPORT]) as server, SmtpSink() as sink:
        forwarded_at = sent_at(FORWARDED) + timedelta(hours=2)
        server.append(SUPPORT, "Sent", forward(FORWARDED, forwarded_at), forwarded_at.timestamp())
        for i in range(1, HISTORY + 1):
            server.append(SUPPORT, "INBOX", request(i, sent_at(i)), sent_at(i).timestamp())
        port = free_port()
        config_path = write_config(tmp_path / "relaydesk.toml", tmp_path / "data", port, sink.port,
                                   queue={"sweep_interval_seconds": 1, "stale_after_seconds": 2},
                                   outbound={"retry_base_seconds": 1})
        add_imap_mailbox(config_path, server.host, server.port, SUPPORT, PASSWORD, poll_seconds=60,
                         sent_folders=["Sent"])
        with serving(config_path, port) as (serve, runtime):
            inbox = select(func.count()).select_from(InboxItem)
            wait_until(lambda: count(runtime, inbox) >= 100, 60, "the first sync under way", interval=0.01)
            for i in LIVE_DURING:  # arriving while the first sync runs
                server.append(SUPPORT, "INBOX", request(i, datetime.now(timezone.utc)))
            wait_settled(runtime, HISTORY + 1 + len(LIVE_DURING), timeout=180)

            started = time.monotonic()
            server.append(SUPPORT, "INBOX", request(LIVE_AFTER, datetime.now(timezone.utc)))
            live = select(func.count()).select_from(Ticket).where(Ticket.subject == f"Request {LIVE_AFTER}: printer jams")
            wait_until(lambda: count(runtime, live) == 1, 10, "the new mail a ticket", interval=0.02)
            latency = time.monotonic() - started
            wait_settled(runtime, HISTORY + 2 + len(LIVE_DURING), timeout=30)
            acks = sink.wait_for(len(LIVE_DURING) + 1)
            time.sleep(2)  # whatever else the delivery actor would send

            assert latency < 2, f"new INBOX mail took {latency:.2f} s with Sent watched too"
            assert sorted(r for mail in sink.mails for r in mail.rcpt_tos) == sorted(
                f"customer{i}@client.example" for i in (*LIVE_DURING, LIVE_AFTER)), "only the live mail is answered"
            assert len(acks) == len(LIVE_DURING) + 1
            _assert_history_dated(runtime)
            parent_ref, child_ref = _assert_forward_linked(runtime, forwarded_at)
            _assert_views_historical(config_path, parent_ref, child_ref, forwarded_at)
            assert "first import done: 500 imported, 0 skipped, 0 kept aside" in serve.log_tail(400)
            print(f"imap history: new INBOX mail a ticket in {latency:.2f} s")


def _assert_history_dated(runtime: Runtime) -> None:
    with runtime.db.transaction() as session:
        rows = session.execute(select(Message.rfc_message_id, Message.created_at, Ticket.created_at)
                               .join(Ticket, Message.ticket_id == Ticket.id)
                               .where(Message.rfc_message_id.like("<request-%"))).all()
        by_number = {int(rfc.split("-")[1].split("@")[0]): (stored, opened) for rfc, stored, opened in rows}
        assert len([n for n in by_number if n <= HISTORY]) == HISTORY
        for i in range(1, HISTORY + 1):
            assert by_number[i] == (sent_at(i), sent_at(i)), f"history mail {i} dated {by_number[i]}"
        withheld = session.scalar(select(func.count()).where(OutboxItem.status == "withheld"))
        assert withheld >= HISTORY  # what history would have sent: recorded, never sent


def _assert_forward_linked(runtime: Runtime, forwarded_at: datetime) -> tuple[str, str]:
    with runtime.db.transaction() as session:
        link = session.scalar(select(Link))
        assert link is not None, session.scalars(select(InboxItem.error)).all()
        parent, child = link.parent, link.child
        assert parent.subject == f"Request {FORWARDED}: printer jams"
        assert child.account.slug == "fixit"
        assert link.created_at == forwarded_at and child.created_at == forwarded_at
        notices = session.scalars(select(OutboxItem.status).where(OutboxItem.kind == "handoff")).all()
        assert notices == ["withheld"]
        return parent.ref, child.ref


def _cli(config_path: Path, *args: str) -> Any:
    done = subprocess.run([sys.executable, "-m", "gateway.cli.main", *args, "--config", str(config_path)],
                          capture_output=True, text=True, timeout=60, check=True)
    return json.loads(done.stdout)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _assert_views_historical(config_path: Path, parent_ref: str, child_ref: str, forwarded_at: datetime) -> None:
    shown = _cli(config_path, "show", parent_ref, "--json")
    assert shown["created_at"] in (_iso(sent_at(FORWARDED)), sent_at(FORWARDED).isoformat()), shown["created_at"]
    chain = _cli(config_path, "chain", parent_ref, "--json")
    link = next(t for t in chain["tickets"] if t["ref"] == child_ref)["link"]
    assert link["handed_off_at"] in (_iso(forwarded_at), forwarded_at.isoformat()), link
    day = forwarded_at.date().isoformat()
    on_the_day = _cli(config_path, "report", "partners", "--since", day, "--until", day, "--format", "json")
    assert [(row["partner"], row["tickets"]) for row in on_the_day if not row["handed_by"]] == [("fixit", 1)]
    today = datetime.now(timezone.utc).date().isoformat()
    assert _cli(config_path, "report", "partners", "--since", today, "--format", "json") == []

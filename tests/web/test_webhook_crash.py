"""A `relaydesk serve` killed (SIGKILL) between a change and its webhook delivery loses no event.

The webhook's outbox rows commit with the change; the receiver is down at
first, the process is killed after the first failed try, and the next
`serve` delivers each event once from the outbox.
"""

from __future__ import annotations

import smtplib
import sqlite3
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.e2e.harness import free_port, wait_until
from tests.e2e.mail_clients import new_mail
from tests.e2e.people import ALICE, VENDOR
from tests.e2e.processes import GatewayProcess, write_config
from tests.smtp_sink import SmtpSink
from tests.web.live import WEBHOOK_SECRET
from tests.web.receiver import Receiver

pytestmark = pytest.mark.slow


def test_a_kill_between_the_change_and_the_delivery_loses_no_event(tmp_path: Path) -> None:
    hook_port, smtp_port = free_port(), free_port()
    with SmtpSink() as sink:
        path = write_config(tmp_path / "relaydesk.toml", tmp_path / "data", smtp_port, sink.port,
                            queue={"sweep_interval_seconds": 1, "stale_after_seconds": 2},
                            outbound={"retry_base_seconds": 3})
        text = path.read_text(encoding="utf-8").replace(
            '[[accounts]]\nslug = "partner"',
            f'[[accounts.webhooks]]\nurl = "http://127.0.0.1:{hook_port}/hook"\nsecret = "{WEBHOOK_SECRET}"\n\n'
            '[[accounts]]\nslug = "partner"', 1)
        path.write_text(text, encoding="utf-8")
        serve = GatewayProcess(path, "serve", name="serve")
        serve.start().wait_smtp(smtp_port)
        try:
            mail = new_mail(ALICE, [VENDOR], "Printer jams", "It jams on every page.")
            with smtplib.SMTP("127.0.0.1", smtp_port, timeout=30) as client:
                client.sendmail(ALICE.email, mail.rcpt_tos, mail.as_bytes())
            database = tmp_path / "data" / "relaydesk.db"
            wait_until(lambda: _tries(database) == [1, 1], 30, "one failed try of each webhook delivery")
            serve.kill()  # after the change, before any delivery succeeded
            with Receiver(hook_port, WEBHOOK_SECRET) as receiver:
                serve.start().wait_smtp(smtp_port)
                received = receiver.wait_for(lambda got: len(got) >= 2, timeout=60)
                time.sleep(3)  # a second copy would come within a retry or a sweep
                received = receiver.received
        finally:
            serve.stop()
    assert Counter(r.body["type"] for r in received) == {"ticket.created": 1, "message.created": 1}
    assert all(r.signature_ok for r in received)


def _tries(database: Path) -> list[int]:
    if not database.exists():
        return []
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        return sorted(row[0] for row in connection.execute(
            "SELECT attempts FROM outbox_items WHERE channel = 'webhook' AND status = 'pending'"))

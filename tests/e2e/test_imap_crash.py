"""SIGKILL `relaydesk serve` while it imports a full IMAP folder; nothing is lost or doubled.

The folder holds TOTAL customer mails.  The server is killed twice in the
middle of the import and restarted; afterwards every mail is exactly one
inbox item, one message on one ticket, and every mail in the folder is
flagged as imported.  A kill between the inbox commit and the flag/cursor
update makes the restarted server fetch that mail again, which intake's key
turns into a no-op.  Imported as live mail (`history_until` long ago) each
gets one acknowledgement; imported as the firm's history (the default for
mail already there) none leaves, across the kills too, and each ticket
carries the mail's own Date.
"""

from __future__ import annotations

from pathlib import Path

import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from gateway.core.runtime import Runtime
from storage.models import InboxItem, OutboxItem, Ticket
from tests.e2e.harness import wait_until
from tests.e2e.outcome import (
    SUPPORT,
    assert_each_mail_once,
    customer_mail,
    wait_settled,
)
from tests.e2e.processes import add_imap_mailbox, free_port, serving, write_config
from tests.channels.imap.dovecot import PASSWORD, dovecot
from tests.smtp_sink import SmtpSink

TOTAL = 300
KILL_AT = (60, 170)  # inbox rows stored before each kill


def _imported(runtime: Runtime) -> int:
    with runtime.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(InboxItem))


MAIL_DATE = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)  # the Date of every customer_mail


@pytest.mark.slow
@pytest.mark.parametrize("history", [False, True], ids=["live", "history"])
def test_sigkill_during_an_imap_import_loses_nothing_and_stores_nothing_twice(tmp_path: Path, history: bool) -> None:
    with dovecot([SUPPORT]) as server, SmtpSink() as sink:
        for i in range(1, TOTAL + 1):
            server.append(SUPPORT, "INBOX", customer_mail(i))
        port = free_port()
        config_path = write_config(tmp_path / "relaydesk.toml", tmp_path / "data", port, sink.port,
                                   queue={"sweep_interval_seconds": 1, "stale_after_seconds": 15},
                                   outbound={"ack_period_seconds": 0, "retry_base_seconds": 1})
        add_imap_mailbox(config_path, server.host, server.port, SUPPORT, PASSWORD, poll_seconds=1,
                         **({} if history else {"history_until": "2000-01-01T00:00:00Z"}))
        with serving(config_path, port) as (serve, runtime):
            at_kills = []
            for threshold in KILL_AT:
                wait_until(lambda: _imported(runtime) >= threshold, 60, f"{threshold} mails imported", interval=0.01)
                serve.kill()
                at_kills.append(_imported(runtime))
                serve.start().wait_smtp(port)
            assert all(count < TOTAL for count in at_kills), f"killed only after the import: {at_kills}"
            wait_settled(runtime, TOTAL, timeout=120)
            assert _imported(runtime) == TOTAL
            assert_each_mail_once(runtime, range(1, TOTAL + 1), acks=0 if history else TOTAL)
            if history:
                _assert_dated_and_silent(runtime)
            flags = server.flags(SUPPORT, "INBOX")
            assert len(flags) == TOTAL and all("\\Seen" in f for f in flags)
            print(f"imap crash test: killed at {at_kills} of {TOTAL} imported")
        if history:
            time.sleep(2)  # what the delivery actor would still send
            assert sink.mails == []
        else:
            assert len(sink.wait_for(TOTAL)) >= TOTAL


def _assert_dated_and_silent(runtime: Runtime) -> None:
    with runtime.db.transaction() as session:
        assert set(session.scalars(select(Ticket.created_at))) == {MAIL_DATE}
        kinds = dict(session.execute(select(OutboxItem.status, func.count()).group_by(OutboxItem.status)).all())
    assert kinds == {"withheld": TOTAL}  # one acknowledgement each, recorded and never sent

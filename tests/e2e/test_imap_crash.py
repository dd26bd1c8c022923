"""SIGKILL `relaydesk serve` while it imports a full IMAP folder; nothing is lost or doubled.

The folder holds TOTAL customer mails.  The server is killed twice in the
middle of the import and restarted; afterwards every mail is exactly one
inbox item, one message on one ticket with one acknowledgement, and every
mail in the folder is flagged as imported.  A kill between the inbox commit
and the flag/cursor update makes the restarted server fetch that mail again,
which intake's key turns into a no-op.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway.core.config import load_config
from gateway.core.runtime import Runtime
from storage.models import InboxItem
from tests.e2e.harness import wait_until
from tests.e2e.outcome import (
    SUPPORT,
    assert_each_mail_once,
    customer_mail,
    wait_settled,
)
from tests.e2e.processes import GatewayProcess, free_port, write_config
from tests.channels.imap.dovecot import PASSWORD, dovecot
from tests.smtp_sink import SmtpSink

TOTAL = 300
KILL_AT = (60, 170)  # inbox rows stored before each kill


def _imported(runtime: Runtime) -> int:
    with runtime.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(InboxItem))


@pytest.mark.slow
def test_sigkill_during_an_imap_import_loses_nothing_and_stores_nothing_twice(tmp_path: Path) -> None:
    with dovecot([SUPPORT]) as server, SmtpSink() as sink:
        for i in range(1, TOTAL + 1):
            server.append(SUPPORT, "INBOX", customer_mail(i))
        port = free_port()
        config_path = write_config(tmp_path / "relaydesk.toml", tmp_path / "data", port, sink.port,
                                   queue={"sweep_interval_seconds": 1, "stale_after_seconds": 15},
                                   outbound={"ack_period_seconds": 0, "retry_base_seconds": 1})
        with config_path.open("a", encoding="utf-8") as config:
            config.write(f'\n[[imap]]\naccount = "vendor"\nhost = "{server.host}"\nport = {server.port}\n'
                         f'security = "none"\nuser = "{SUPPORT}"\npassword = "{PASSWORD}"\npoll_seconds = 1\n')
        serve = GatewayProcess(config_path, "serve", name="serve")
        runtime = Runtime.open(load_config(config_path))
        try:
            serve.start().wait_smtp(port)
            at_kills = []
            for threshold in KILL_AT:
                wait_until(lambda: _imported(runtime) >= threshold, 60, f"{threshold} mails imported", interval=0.01)
                serve.kill()
                at_kills.append(_imported(runtime))
                serve.start().wait_smtp(port)
            assert all(count < TOTAL for count in at_kills), f"killed only after the import: {at_kills}"
            wait_settled(runtime, TOTAL, timeout=120)
            assert _imported(runtime) == TOTAL
            assert_each_mail_once(runtime, range(1, TOTAL + 1))
            flags = server.flags(SUPPORT, "INBOX")
            assert len(flags) == TOTAL and all("\\Seen" in f for f in flags)
            print(f"imap crash test: killed at {at_kills} of {TOTAL} imported")
        except BaseException:
            print(serve.log_tail(80))
            raise
        finally:
            runtime.close()
            serve.stop()
        assert len(sink.wait_for(TOTAL)) >= TOTAL

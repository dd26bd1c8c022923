"""SIGKILL `relaydesk serve` repeatedly while mail pours in; nothing is lost or doubled.

A client thread sends 500 mails and, like a real MTA, retries each one until
it gets `250` (a retry after a lost `250` must not store a second copy).  The
test kills the server with SIGKILL four times — three times while mail is
arriving, once while the backlog is being processed and acknowledged — and
restarts it each time.  Afterwards every mail is exactly one message on
exactly one ticket, and every ticket got exactly one acknowledgement.  An
acknowledgement whose send was cut off by a kill is due again as soon as the
restarted server releases its dead predecessor's delivery leases.

Delivery is at least once by design (SPEC §7): a kill between the sink's
`250` and the `sent` commit sends the same mail (same Message-ID) again.  So
the sink is checked for one distinct acknowledgement per customer, and
verbatim re-sends are allowed only within what the kills can explain.
"""

from __future__ import annotations

import smtplib
import threading
import time
from collections import Counter, defaultdict
from email.parser import BytesHeaderParser
from pathlib import Path

import pytest

from gateway.core.config import load_config
from gateway.core.runtime import Runtime
from gateway.outbound.delivery import LEASE_MIN_SECONDS
from tests.e2e.outcome import (
    SUPPORT,
    assert_each_mail_once,
    customer,
    customer_mail,
    wait_settled,
)
from tests.e2e.processes import GatewayProcess, free_port, write_config
from tests.smtp_sink import SmtpSink

TOTAL = 500
KILL_AT = (120, 240, 360)  # accepted mails before each kill while mail is arriving
WORKER_THREADS = 4


class RetryingSender(threading.Thread):
    """Sends mails 1..TOTAL in order, each until it is answered 250; counts the retries."""

    def __init__(self, port: int) -> None:
        super().__init__(name="crash-test-sender", daemon=True)
        self.port = port
        self.accepted: list[int] = []
        self.retries = 0
        self.failure: BaseException | None = None
        self._progress = threading.Condition()

    def run(self) -> None:
        client: smtplib.SMTP | None = None
        deadline = time.monotonic() + 240
        try:
            for i in range(1, TOTAL + 1):
                while True:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"mail {i} not accepted within the test's time")
                    try:
                        client = client or smtplib.SMTP("127.0.0.1", self.port, timeout=10)
                        client.sendmail(customer(i), [SUPPORT], customer_mail(i))
                        break
                    except (OSError, smtplib.SMTPException):
                        self.retries += 1
                        client = _close(client)
                        time.sleep(0.02)
                with self._progress:
                    self.accepted.append(i)
                    self._progress.notify_all()
        except BaseException as exc:  # reported by the test
            self.failure = exc
        finally:
            _close(client)
            with self._progress:
                self._progress.notify_all()

    def wait_accepted(self, count: int, timeout: float = 60) -> None:
        with self._progress:
            if not self._progress.wait_for(lambda: len(self.accepted) >= count or not self.is_alive(), timeout):
                raise AssertionError(f"only {len(self.accepted)} mails accepted after {timeout}s")


def _close(client: smtplib.SMTP | None) -> None:
    if client is not None:
        try:
            client.close()
        except OSError:
            pass
    return None


@pytest.mark.slow
def test_sigkill_loses_nothing_and_stores_nothing_twice(tmp_path: Path) -> None:
    with SmtpSink() as sink:
        port = free_port()
        config_path = write_config(
            tmp_path / "relaydesk.toml", tmp_path / "data", port, sink.port,
            queue={"sweep_interval_seconds": 1, "stale_after_seconds": 15, "worker_threads": WORKER_THREADS},
            outbound={"ack_period_seconds": 0, "retry_base_seconds": 1},
        )
        serve = GatewayProcess(config_path, "serve", name="serve")
        serve.start().wait_smtp(port)
        sender = RetryingSender(port)
        kills = 0
        try:
            sender.start()
            for threshold in KILL_AT:
                sender.wait_accepted(threshold)
                serve.kill()
                kills += 1
                serve.start().wait_smtp(port)
            sender.join(timeout=240)
            assert sender.failure is None, sender.failure
            assert sender.accepted == list(range(1, TOTAL + 1))
            # Once more while the backlog is processed and acknowledged.
            sink.wait_for(TOTAL // 2, timeout=60)
            serve.kill()
            kills += 1
            serve.start().wait_smtp(port)

            runtime = Runtime.open(load_config(config_path))
            try:
                # A send cut off by the last kill is released at restart (delivery.release_leases).
                wait_settled(runtime, TOTAL, timeout=LEASE_MIN_SECONDS + 90)
                assert_each_mail_once(runtime, range(1, TOTAL + 1))
            finally:
                runtime.close()
        except BaseException:
            print(serve.log_tail(80))
            raise
        finally:
            serve.stop()

        copies: defaultdict[str, Counter[str]] = defaultdict(Counter)
        for mail in sink.wait_for(TOTAL):
            message_id = BytesHeaderParser().parsebytes(mail.raw)["Message-ID"]
            for rcpt in mail.rcpt_tos:
                copies[rcpt][message_id] += 1
        assert set(copies) == {customer(i) for i in range(1, TOTAL + 1)}
        assert all(len(by_id) == 1 for by_id in copies.values()), "a customer got two different acknowledgements"
        resent = sum(n - 1 for by_id in copies.values() for n in by_id.values())
        assert resent <= kills * WORKER_THREADS, f"{resent} verbatim re-sends after {kills} kills"
        print(f"crash test: {kills} kills, {sender.retries} client retries, {resent} verbatim re-sends")

"""PostgreSQL goes away under a running `relaydesk serve` and comes back.

The database sits behind a TCP proxy the test cuts: open connections are
reset and new ones refused, as when the database server restarts or its
host drops off the network.  Meanwhile mail keeps arriving and an
acknowledgement is waiting to be retried.  The promises: the gateway never
answers 250 for mail it could not store (451, so the sender keeps it and
tries again), the process stays up, and once the database is back every
mail is one message on one ticket and every acknowledgement leaves, without
anybody restarting anything.  The log says when the database went away and
when it came back, once each.
"""

from __future__ import annotations

import smtplib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from gateway.core.config import load_config
from gateway.core.runtime import Runtime
from tests.e2e.harness import wait_until
from tests.e2e.outcome import (
    SUPPORT,
    acks_by_recipient,
    assert_each_mail_once,
    customer,
    customer_mail,
    wait_settled,
)
from tests.e2e.processes import GatewayProcess, free_port, write_config
from tests.services import fresh_postgres_database
from tests.smtp_sink import SmtpSink
from tests.tcp_proxy import TcpProxy

OUTAGE_SECONDS = 4.0


class Smarthost(SmtpSink):
    """A sink that answers 451 while `busy` is set: the acknowledgement has to wait for a retry."""

    def __init__(self) -> None:
        self.busy = threading.Event()
        self.refused = 0
        super().__init__(reply=self._maybe_refuse)

    def _maybe_refuse(self, _envelope: object) -> str | None:
        if self.busy.is_set():
            self.refused += 1
            return "451 4.3.0 Try again later"
        return None


@contextmanager
def serving(config: Path, port: int) -> Iterator[GatewayProcess]:
    serve = GatewayProcess(config, "serve", name="serve").start()
    try:
        serve.wait_smtp(port)
        yield serve
    except BaseException:
        print(serve.log_tail(80))
        raise
    finally:
        exit_code = serve.stop()
    assert exit_code == 0, serve.log_tail(80)


def send(port: int, i: int) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
        client.sendmail(customer(i), [SUPPORT], customer_mail(i))


def test_serve_rides_out_a_database_outage(tmp_path: Path) -> None:
    with fresh_postgres_database() as direct_url, TcpProxy(("127.0.0.1", 5432)) as proxy, Smarthost() as sink:
        url = make_url(direct_url)
        proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        port = free_port()
        config = write_config(
            tmp_path / "relaydesk.toml", tmp_path / "data", port, sink.port,
            storage={"url": proxied},
            queue={"sweep_interval_seconds": 1, "stale_after_seconds": 3},
            outbound={"retry_base_seconds": 1},
        )
        with serving(config, port) as serve:
            send(port, 1)
            sink.wait_for(1)

            sink.busy.set()
            send(port, 2)  # stored and processed; its acknowledgement is refused and waits
            wait_until(lambda: sink.refused >= 1, 30, "the smarthost to refuse the second acknowledgement")

            proxy.cut()
            with pytest.raises(smtplib.SMTPDataError) as refused:
                send(port, 3)
            assert refused.value.smtp_code == 451, refused.value
            time.sleep(OUTAGE_SECONDS)  # retries, sweeps and the pool all meet a dead database meanwhile
            assert serve.process is not None and serve.process.poll() is None, serve.log_tail(80)

            proxy.restore()
            sink.busy.clear()
            send(port, 3)  # the sender's retry
            settings = load_config(config)
            runtime = Runtime.open(settings.model_copy(
                update={"storage": settings.storage.model_copy(update={"url": direct_url})}))
            try:
                wait_settled(runtime, 3, timeout=120)
                assert_each_mail_once(runtime, range(1, 4))
            finally:
                runtime.close()
            log = serve.log_path.read_text(errors="replace")
            # The operator reads one line when it goes and one when it is back, not a traceback per retry.
            assert log.count("database unavailable:") == 1, log
            assert log.count("database reachable again after") == 1, log
            assert "mail from 'customer3@client.example' (" in log and "deferred with 451" in log
            assert "Traceback" not in log, log

    assert acks_by_recipient(sink.mails) == {customer(i): 1 for i in range(1, 4)}

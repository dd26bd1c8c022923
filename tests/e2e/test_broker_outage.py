"""The shared broker goes away under `serve --no-worker` and a `worker`, and comes back.

Redis or RabbitMQ sits behind a TCP proxy the test cuts, as when the broker
restarts.  Mail keeps arriving meanwhile: the gateway still answers 250,
because the database, not the broker, holds the mail; enqueueing fails and
is left to the worker's sweeper.  Once the broker is back, without anybody
restarting a process, every mail is one message on one ticket and is
acknowledged once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from gateway.core.config import load_config
from gateway.core.runtime import Runtime
from tests.e2e.harness import wait_until
from tests.e2e.outcome import (
    acks_by_recipient,
    assert_each_mail_once,
    customer,
    send_mails,
    wait_settled,
)
from tests.e2e.processes import GatewayProcess, free_port, write_config
from tests.services import fresh_postgres_database, rabbitmq_vhost, redis_namespace
from tests.smtp_sink import SmtpSink
from tests.tcp_proxy import TcpProxy

OUTAGE_SECONDS = 4.0


def _through(url: str, proxy: TcpProxy) -> str:
    """`url` with its host and port replaced by the proxy's."""
    parts = urlsplit(url)
    credentials = parts.netloc.rpartition("@")[0]
    netloc = f"{credentials}@127.0.0.1:{proxy.port}" if credentials else f"127.0.0.1:{proxy.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def _upstream(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


@contextmanager
def _broker(kind: str) -> Iterator[tuple[str, dict[str, str]]]:
    """The broker URL and the extra [queue] keys it needs, on a namespace or vhost of its own."""
    if kind == "redis":
        with redis_namespace() as (url, namespace):
            yield url, {"namespace": namespace}
    else:
        with rabbitmq_vhost() as url:
            yield url, {}


@pytest.mark.postgres
@pytest.mark.parametrize("kind, port", [pytest.param("redis", 6379, marks=pytest.mark.redis),
                                        pytest.param("rabbitmq", 5672, marks=pytest.mark.rabbitmq)])
def test_mail_taken_while_the_broker_is_away_is_processed_once_it_is_back(tmp_path: Path, kind: str,
                                                                           port: int) -> None:
    with ExitStack() as stack:
        db_url = stack.enter_context(fresh_postgres_database())
        broker_url, extra = stack.enter_context(_broker(kind))
        proxy = stack.enter_context(TcpProxy(_upstream(broker_url, port)))
        sink = stack.enter_context(SmtpSink())
        smtp_port = free_port()
        config = write_config(
            tmp_path / "relaydesk.toml", tmp_path / "data", smtp_port, sink.port, storage={"url": db_url},
            queue={"broker": _through(broker_url, proxy), "sweep_interval_seconds": 1, "stale_after_seconds": 3,
                   **extra},
            outbound={"retry_base_seconds": 1},
        )
        serve = GatewayProcess(config, "serve", "--no-worker", name="serve").start()
        worker = GatewayProcess(config, "worker", name="worker").start()
        try:
            serve.wait_smtp(smtp_port)
            send_mails(smtp_port, range(1, 2))
            sink.wait_for(1)

            proxy.cut()
            send_mails(smtp_port, range(2, 4))  # answered 250: the mail is in the database
            time.sleep(OUTAGE_SECONDS)
            for process in (serve, worker):
                assert process.process is not None and process.process.poll() is None, process.log_tail(80)
            proxy.restore()

            runtime = Runtime.open(load_config(config))
            try:
                wait_settled(runtime, 3, timeout=120)
                assert_each_mail_once(runtime, range(1, 4))
            finally:
                runtime.close()
            wait_until(lambda: len(sink.mails) >= 3, 30, "three acknowledgements at the smarthost")
        except BaseException:
            for process in (serve, worker):
                print(f"--- {process.log_path.name}\n{process.log_tail(80)}")
            raise
        finally:
            exit_codes = [process.stop() for process in (serve, worker)]
        assert exit_codes == [0, 0], [serve.log_tail(80), worker.log_tail(80)]
        assert "not enqueued" in serve.log_path.read_text(errors="replace")
        assert "sweep failed" not in worker.log_path.read_text(errors="replace")  # a broker outage is no bug
    assert acks_by_recipient(sink.mails) == {customer(i): 1 for i in range(1, 4)}

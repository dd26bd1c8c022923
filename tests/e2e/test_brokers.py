"""The same flow on each broker layout, with real processes.

embedded: one `relaydesk serve` (SQLite) does everything.
redis / rabbitmq: `relaydesk serve --no-worker` takes mail, two `relaydesk
worker` processes process and deliver it, all on PostgreSQL.
In each: N mails in → N tickets, each acknowledged exactly once at the sink.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from gateway.core.config import load_config
from gateway.core.runtime import Runtime
from tests.e2e.outcome import (
    acks_by_recipient,
    assert_each_mail_once,
    customer,
    send_mails,
    wait_settled,
)
from tests.e2e.processes import REPO, GatewayProcess, free_port, write_config
from tests.services import fresh_postgres_database, rabbitmq_vhost, redis_namespace
from tests.smtp_sink import SmtpSink

MAILS = range(1, 31)
FAST_SWEEP = {"sweep_interval_seconds": 1, "stale_after_seconds": 20, "worker_threads": 4}


@contextmanager
def processes(*procs: GatewayProcess) -> Iterator[None]:
    """Stop every process afterwards (SIGTERM must end each cleanly); show their logs on failure."""
    try:
        yield
    except BaseException:
        for proc in procs:
            print(f"--- {proc.log_path.name}\n{proc.log_tail()}")
        raise
    finally:
        exit_codes = {proc.log_path.name: proc.stop() for proc in procs}
    assert set(exit_codes.values()) == {0}, exit_codes


def run_flow(tmp_path: Path, sink: SmtpSink, procs_args: list[tuple[str, ...]], **sections: dict[str, Any]) -> None:
    port = free_port()
    config_path = write_config(tmp_path / "relaydesk.toml", tmp_path / "data", port, sink.port, **sections)
    procs = [GatewayProcess(config_path, *args, name=f"{args[0]}-{n}") for n, args in enumerate(procs_args)]
    with processes(*procs):
        for proc in procs:
            proc.start()
        procs[0].wait_smtp(port)
        send_mails(port, MAILS)
        runtime = Runtime.open(load_config(config_path))
        try:
            wait_settled(runtime, len(MAILS))
            assert_each_mail_once(runtime, MAILS)
        finally:
            runtime.close()
    sunk = acks_by_recipient(sink.wait_for(len(MAILS)))
    assert sunk == {customer(i): 1 for i in MAILS}


def test_embedded_broker_runs_everything_in_serve(tmp_path: Path) -> None:
    with SmtpSink() as sink:
        run_flow(tmp_path, sink, [("serve",)], queue=FAST_SWEEP)


@pytest.mark.postgres
@pytest.mark.redis
def test_redis_with_two_workers_on_postgresql(tmp_path: Path) -> None:
    with ExitStack() as stack:
        db_url = stack.enter_context(fresh_postgres_database())
        redis_url, namespace = stack.enter_context(redis_namespace())
        sink = stack.enter_context(SmtpSink())
        run_flow(
            tmp_path, sink, [("serve", "--no-worker"), ("worker",), ("worker", "--threads", "2")],
            storage={"url": db_url}, queue={**FAST_SWEEP, "broker": redis_url, "namespace": namespace},
        )


@pytest.mark.postgres
@pytest.mark.rabbitmq
def test_rabbitmq_with_two_workers_on_postgresql(tmp_path: Path) -> None:
    with ExitStack() as stack:
        db_url = stack.enter_context(fresh_postgres_database())
        amqp_url = stack.enter_context(rabbitmq_vhost())
        sink = stack.enter_context(SmtpSink())
        run_flow(
            tmp_path, sink, [("serve", "--no-worker"), ("worker",), ("worker", "--threads", "2")],
            storage={"url": db_url}, queue={**FAST_SWEEP, "broker": amqp_url},
        )


@pytest.mark.parametrize("args", [("worker",), ("serve", "--no-worker")])
def test_embedded_broker_refuses_split_layouts_with_an_explanation(tmp_path: Path, args: tuple[str, ...]) -> None:
    config_path = write_config(tmp_path / "relaydesk.toml", tmp_path / "data", free_port(), free_port())
    result = subprocess.run(
        [sys.executable, "-m", "gateway.cli.main", *args, "--config", str(config_path)],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "embedded" in result.stderr and "redis://" in result.stderr

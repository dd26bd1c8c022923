"""Fixtures for outbound delivery: a running smarthost sink and a runtime relaying to it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.core.runtime import Runtime
from tests.conftest import demo_config
from tests.smtp_sink import SmtpSink


def closed_port() -> int:
    """A TCP port nothing listens on (bound once, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def relay_runtime(db_url: str, tmp_path: Path, sink: SmtpSink) -> Iterator[Runtime]:
    """The demo world on both backends, relaying to `sink`, with fast retries."""
    config = demo_config(
        tmp_path, db_url, sink_port=sink.port,
        outbound={"retry_base_seconds": 10, "max_attempts": 3, "timeout_seconds": 5,
                  "message_id_domain": "mail.relaydesk.test"},
    )
    runtime = Runtime.open(config)
    try:
        yield runtime
    finally:
        runtime.close()

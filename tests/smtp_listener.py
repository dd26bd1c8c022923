"""An in-process SMTP listener on a free port, with enqueues recorded instead of sent (the `listen` fixture)."""

from __future__ import annotations

import smtplib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.channels.smtp import SmtpServer
from gateway.core.runtime import Runtime
from tests.conftest import demo_config


class Listener:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.enqueued: list[int] = []
        self.server = SmtpServer(runtime, enqueue=self._enqueue)

    def _enqueue(self, *inbox_ids: int) -> None:
        self.enqueued.extend(inbox_ids)

    def client(self) -> smtplib.SMTP:
        host, port = self.server.address
        client = smtplib.SMTP(host, port, timeout=30)
        client.ehlo("client.example")
        return client


@pytest.fixture
def listen(tmp_path: Path) -> Iterator[Callable[..., Listener]]:
    """`listen(db_url=None, **section_overrides)` → a started listener on the demo world."""
    started: list[Listener] = []

    def start(db_url: str | None = None, **overrides: Any) -> Listener:
        smtp = {"listen": "127.0.0.1:0", **overrides.pop("smtp", {})}
        runtime = Runtime.open(demo_config(tmp_path, db_url, smtp=smtp, **overrides))
        listener = Listener(runtime)
        listener.server.start()
        started.append(listener)
        return listener

    yield start
    for listener in started:
        listener.server.stop()
        listener.runtime.close()

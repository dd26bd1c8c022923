"""Fixtures of the IMAP tests: a Dovecot per test, and runtimes with a mailbox on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.core.runtime import Runtime
from tests.channels.imap.dovecot import PASSWORD, Dovecot, dovecot
from tests.conftest import demo_config

SUPPORT = "support@vendor.example"


@pytest.fixture
def server() -> Iterator[Dovecot]:
    with dovecot([SUPPORT]) as running:
        yield running


@pytest.fixture
def open_runtime(db_url: str, tmp_path: Path, server: Dovecot) -> Iterator[Callable[..., Runtime]]:
    """Runtime factory: the demo world with one [[imap]] mailbox on the test's Dovecot."""
    opened: list[Runtime] = []

    def make(smtp: dict[str, Any] | None = None, **box: Any) -> Runtime:
        mailbox = {"account": "vendor", "host": server.host, "port": server.port, "security": "none",
                   "user": SUPPORT, "password": PASSWORD, "poll_seconds": 60, **box}
        runtime = Runtime.open(demo_config(tmp_path, db_url, imap=[mailbox], smtp=smtp or {}))
        opened.append(runtime)
        return runtime

    yield make
    for runtime in opened:
        runtime.close()

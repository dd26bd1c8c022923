"""Fixtures of the end-to-end tests: a running demo installation per test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.e2e.harness import Installation
from tests.services import fresh_postgres_database


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(params=["sqlite", "postgresql"])
def desk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Installation]:
    """`relaydesk serve` on the demo world (demo.toml), with an SMTP sink as smarthost, on both backends."""
    with ExitStack() as stack:
        db_url = stack.enter_context(fresh_postgres_database()) if request.param == "postgresql" else None
        yield stack.enter_context(Installation.demo(tmp_path / "desk", db_url=db_url))

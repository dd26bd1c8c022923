"""Fixtures of the end-to-end tests: a running demo installation per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import Installation


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Installation]:
    """`relaydesk serve` on the demo world (demo.toml), with an SMTP sink as smarthost."""
    with Installation.demo(tmp_path / "desk") as installation:
        yield installation

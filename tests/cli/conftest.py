"""Fixtures of the CLI tests: the demo world as a config file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import demo_config_text


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "relaydesk.toml"
    path.write_text(demo_config_text(tmp_path), encoding="utf-8")
    return path

"""Fixtures shared by every test: databases on SQLite and PostgreSQL, configs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.core.config import Config, parse_config
from gateway.core.runtime import Runtime
from tests.services import fresh_postgres_database
from tests.smtp_sink import SmtpSink

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DEMO_TOML = SHARED / "scenarios" / "demo.toml"
TEST_SECRET = "test-secret-not-for-production"

# Fixtures shared by several test packages, kept in modules of their own.
pytest_plugins = ["tests.smtp_listener"]


def with_web_listener(config_text: str, listen: str = "127.0.0.1:0") -> str:
    """The config with a `[web]` table listening on `listen` (any free port by default) unless it has one.

    `relaydesk serve` serves the web desk, by default on one fixed port; tests
    run many servers at once, so each takes a port of its own.
    """
    if "\n[web]" in "\n" + config_text:
        return config_text
    return config_text.rstrip() + f'\n\n[web]\nlisten = "{listen}"\n'


def demo_config_text(data_dir: Path, smtp_port: int = 0, sink_port: int = 0) -> str:
    """The acceptance scenarios' config with its placeholders filled in (and the web desk on a free port)."""
    return with_web_listener(
        DEMO_TOML.read_text(encoding="utf-8")
        .replace("{data}", str(data_dir))
        .replace("{smtp_port}", str(smtp_port))
        .replace("{sink_port}", str(sink_port))
    )


def demo_config(data_dir: Path, db_url: str | None = None, **overrides: Any) -> Config:
    """The demo world as a Config, optionally on another database and with section overrides."""
    import tomllib

    data = tomllib.loads(demo_config_text(data_dir, overrides.pop("smtp_port", 0), overrides.pop("sink_port", 0)))
    if db_url:
        data["storage"]["url"] = db_url
    for section, values in overrides.items():
        if isinstance(values, list):  # an array of tables, such as [[imap]]
            data[section] = values
        else:
            data.setdefault(section, {}).update(values)
    return parse_config(data)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each storage/pipeline test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/relaydesk.db"
    else:
        with fresh_postgres_database() as url:
            yield url


@pytest.fixture
def runtime(db_url: str, tmp_path: Path) -> Iterator[Runtime]:
    """A migrated database with the demo accounts, on both backends."""
    rt = Runtime.open(demo_config(tmp_path, db_url))
    try:
        yield rt
    finally:
        rt.close()


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    """An SMTP sink on a free port, the smarthost of tests that look at outbound mail."""
    with SmtpSink() as running:
        yield running


@pytest.fixture
def sqlite_runtime(tmp_path: Path) -> Iterator[Runtime]:
    """The demo world on SQLite only, for tests that are about logic, not the backend."""
    rt = Runtime.open(demo_config(tmp_path))
    try:
        yield rt
    finally:
        rt.close()


os.environ.setdefault("RELAYDESK_SECRET", TEST_SECRET)

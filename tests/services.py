"""Reach the real services tests run against, or skip (fail under CI).

URLs come from the environment with the local defaults.  A test that needs a
service nobody started is skipped with the reason printed — except when
CI=true, where the same situation fails the run, so CI always exercises
PostgreSQL and the brokers.
"""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest

PG_URL = os.environ.get("RELAYDESK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("RELAYDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
AMQP_URL = os.environ.get("RELAYDESK_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")


def unavailable(reason: str) -> None:
    """Skip the test, or fail it under CI where nothing may be skipped."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"required service unavailable under CI: {reason}", pytrace=False)
    pytest.skip(reason)


def port_open(url: str, default_port: int) -> bool:
    parts = urlsplit(url.replace("postgresql+psycopg", "postgresql"))
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=2):
            return True
    except OSError:
        return False


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test; dropped afterwards."""
    if not port_open(PG_URL, 5432):
        unavailable(f"PostgreSQL not reachable at {PG_URL}")
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"relaydesk_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def redis_namespace() -> Iterator[tuple[str, str]]:
    """The Redis URL and a unique key namespace; the namespace's keys are deleted afterwards."""
    if not port_open(REDIS_URL, 6379):
        unavailable(f"Redis not reachable at {REDIS_URL}")
    import redis

    namespace = f"relaydesk-test-{uuid.uuid4().hex[:8]}"
    try:
        yield REDIS_URL, namespace
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{namespace}*"):
            client.delete(key)
        client.close()


@contextmanager
def rabbitmq_vhost() -> Iterator[str]:
    """An AMQP URL on a fresh RabbitMQ virtual host; deleted afterwards."""
    if not port_open(AMQP_URL, 5672):
        unavailable(f"RabbitMQ not reachable at {AMQP_URL}")
    vhost = f"relaydesk-test-{uuid.uuid4().hex[:8]}"
    user = urlsplit(AMQP_URL).username or "guest"
    try:
        subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True, capture_output=True, timeout=60)
        subprocess.run(
            ["rabbitmqctl", "-q", "set_permissions", "-p", vhost, user, ".*", ".*", ".*"],
            check=True, capture_output=True, timeout=60,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        unavailable(f"cannot create a RabbitMQ vhost with rabbitmqctl: {exc}")
    try:
        yield AMQP_URL.rstrip("/") + "/" + vhost
    finally:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True, timeout=60)

"""`relaydesk api-token …` and `relaydesk webhook …` through typer's CliRunner on a real config file."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from gateway.cli.main import app
from gateway.core.api_tokens import TokenRefused, authenticate
from gateway.core.config import parse_config
from gateway.core.runtime import Runtime
from tests.conftest import demo_config_text
from tests.e2e.harness import free_port
from tests.pipeline.mail import mail
from tests.web.live import WEBHOOK_SECRET
from tests.web.receiver import Receiver

runner = CliRunner()


@pytest.fixture
def hook_port() -> int:
    return free_port()


@pytest.fixture
def config_file(tmp_path: Path, hook_port: int) -> Path:
    hook = (f'[[accounts.webhooks]]\nurl = "http://127.0.0.1:{hook_port}/hook"\nsecret = "{WEBHOOK_SECRET}"\n'
            'events = ["ticket.created"]\n\n')
    text = demo_config_text(tmp_path).replace('[[accounts]]\nslug = "partner"', hook + '[[accounts]]\nslug = "partner"', 1)
    path = tmp_path / "relaydesk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


def test_a_token_is_shown_once_stored_hashed_listed_and_revoked(config_file: Path) -> None:
    created = _run("api-token", "create", "vendor", "--scope", "write", "--name", "crm", "--config", str(config_file))
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip().splitlines()[-1]
    assert secret.startswith("rdk_") and len(secret) > 40
    listed = _run("api-token", "list", "--json", "--config", str(config_file))
    [row] = json.loads(listed.stdout)
    assert row | {"created_at": None} == {"id": 1, "account": "vendor", "name": "crm", "scope": "write",
                                          "created_at": None, "last_used_at": None, "revoked_at": None}
    assert secret not in listed.stdout
    runtime = Runtime.open(parse_config(tomllib.loads(config_file.read_text())))
    try:
        with runtime.db.transaction() as session:
            assert authenticate(session, secret).account_slug == "vendor"
            stored = session.execute(text("SELECT secret_sha256 FROM api_tokens")).scalar()
        assert secret not in stored and len(stored) == 64
        assert _run("api-token", "revoke", "1", "--config", str(config_file)).exit_code == 0
        with runtime.db.transaction() as session, pytest.raises(TokenRefused):
            authenticate(session, secret)
    finally:
        runtime.close()
    assert _run("api-token", "create", "nobody", "--config", str(config_file)).exit_code == 2
    assert _run("api-token", "create", "vendor", "--scope", "admin", "--config", str(config_file)).exit_code == 2


def test_webhook_list_test_and_deliveries(config_file: Path, hook_port: int, tmp_path: Path) -> None:
    listed = json.loads(_run("webhook", "list", "--json", "--config", str(config_file)).stdout)
    assert listed == [{"account": "vendor", "url": f"http://127.0.0.1:{hook_port}/hook", "events": ["ticket.created"],
                       "sent": 0, "pending": 0, "failed": 0}]
    down = _run("webhook", "test", "vendor", "--config", str(config_file))
    assert down.exit_code == 1 and "FAILED" in down.stdout
    with Receiver(hook_port, WEBHOOK_SECRET) as receiver:
        up = _run("webhook", "test", "vendor", "--config", str(config_file))
        assert up.exit_code == 0 and "OK (HTTP 200)" in up.stdout
    assert [r.body["type"] for r in receiver.received] == ["ping"] and receiver.received[0].signature_ok
    assert json.loads(_run("webhook", "deliveries", "--json", "--config", str(config_file)).stdout) == []
    eml = tmp_path / "printer.eml"
    eml.write_bytes(mail())
    assert _run("ingest", str(eml), "--account", "vendor", "--config", str(config_file)).exit_code == 0
    [delivery] = json.loads(_run("webhook", "deliveries", "--json", "--config", str(config_file)).stdout)
    assert delivery | {"id": 0, "event_id": 0, "created_at": "", "next_attempt_at": ""} == {
        "id": 0, "account": "vendor", "url": f"http://127.0.0.1:{hook_port}/hook", "event": "ticket.created",
        "event_id": 0, "status": "pending", "attempts": 0, "error": None, "created_at": "", "next_attempt_at": "",
        "sent_at": None}

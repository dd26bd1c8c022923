"""`relaydesk telegram-code`: the operator's way to hand an agent their one-time /link code."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from bots.linking import link_code
from gateway.cli.main import app
from gateway.core.config import load_config
from gateway.core.runtime import Runtime
from storage.models import Agent, utcnow
from tests.conftest import demo_config_text


def test_prints_the_code_the_bot_accepts(tmp_path: Path) -> None:
    path = tmp_path / "relaydesk.toml"
    path.write_text(demo_config_text(tmp_path), encoding="utf-8")
    printed = CliRunner().invoke(app, ["telegram-code", "Dana@vendor.example", "--config", str(path)])
    assert printed.exit_code == 0, printed.output
    runtime = Runtime.open(load_config(path))
    try:
        with runtime.db.transaction() as session:
            dana = session.scalar(select(Agent).where(Agent.email == "dana@vendor.example"))
            code = link_code(runtime.config.security.secret, dana, utcnow().date())
    finally:
        runtime.close()
    assert f"send  /link {code}  to the bot" in printed.output


def test_an_unknown_address_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "relaydesk.toml"
    path.write_text(demo_config_text(tmp_path), encoding="utf-8")
    printed = CliRunner().invoke(app, ["telegram-code", "nobody@vendor.example", "--config", str(path)])
    assert printed.exit_code == 2 and "nobody@vendor.example is no agent" in printed.output

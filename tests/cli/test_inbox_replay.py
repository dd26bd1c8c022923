"""`relaydesk inbox` shows what is parked and why; `relaydesk replay` applies it once the cause is fixed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.cli.main import app
from gateway.pipeline import runner as pipeline_runner
from gateway.pipeline.context import Inbound
from tests.conftest import demo_config_text
from tests.pipeline.mail import mail

runner = CliRunner()


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "relaydesk.toml"
    text = demo_config_text(tmp_path).replace('broker = "embedded"', 'broker = "embedded"\nmax_attempts = 1')
    path.write_text(text, encoding="utf-8")
    return path


def _broken_step(ctx: Inbound) -> None:
    raise RuntimeError("ticket store unavailable")


def test_parked_mail_is_listed_with_its_reason_and_replayed(config_file: Path, tmp_path: Path, monkeypatch) -> None:
    eml = tmp_path / "printer.eml"
    eml.write_bytes(mail())
    monkeypatch.setattr(pipeline_runner, "STEPS", [_broken_step])
    failed = runner.invoke(app, ["ingest", str(eml), "--account", "vendor", "--config", str(config_file)])
    assert failed.exit_code == 1 and "parked" in failed.output

    listed = runner.invoke(app, ["inbox", "--status", "parked", "--json", "--config", str(config_file)])
    rows = json.loads(listed.stdout)
    assert [(r["status"], r["attempts"], r["error"]) for r in rows] == [
        ("parked", 1, "_broken_step: RuntimeError: ticket store unavailable")]

    monkeypatch.undo()
    replayed = runner.invoke(app, ["replay", "--all-parked", "--config", str(config_file)])
    assert replayed.exit_code == 0, replayed.output
    assert f"inbox item {rows[0]['id']}: done" in replayed.output
    tickets = json.loads(runner.invoke(app, ["tickets", "--json", "--config", str(config_file)]).stdout)
    assert [t["ref"] for t in tickets] == ["VND-1"]


def test_replay_of_an_item_that_is_not_parked_says_so(config_file: Path, tmp_path: Path) -> None:
    eml = tmp_path / "printer.eml"
    eml.write_bytes(mail())
    assert runner.invoke(app, ["ingest", str(eml), "--account", "vendor", "--config", str(config_file)]).exit_code == 0
    result = runner.invoke(app, ["replay", "1", "--config", str(config_file)])
    assert result.exit_code == 1 and "inbox item 1: not-parked" in result.output
    assert runner.invoke(app, ["replay", "--config", str(config_file)]).exit_code == 2

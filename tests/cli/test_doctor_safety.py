"""The doctor's safety rows: the example's secret, a generated one, an SMTP listener open to other machines."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli.doctor import run_checks
from gateway.cli.doctor_safety import NeedsAttention, check_mail_links, check_secret, check_smtp_exposure
from gateway.core.config import load_config, parse_config
from gateway.core.runtime import Runtime
from tests.conftest import demo_config_text

ROOT = Path(__file__).resolve().parents[2]


def test_the_example_configs_secret_is_warned_about() -> None:
    config = parse_config({"security": {"secret": "change-me-to-a-long-random-string"}})
    with pytest.raises(NeedsAttention, match="the example config's, which anyone can read"):
        check_secret(config)
    assert check_secret(parse_config({"security": {"secret": "x" * 40}})) == "configured"


def test_make_runs_config_gets_a_secret_of_its_own_at_first_start(tmp_path: Path, monkeypatch) -> None:
    """config.example.toml (what `make run` uses) ships no secret: the first start makes one, the doctor says where."""
    monkeypatch.delenv("RELAYDESK_SECRET", raising=False)
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8").replace('"data/', f'"{tmp_path}/data/')
    text = text.replace("sqlite:///data/", f"sqlite:///{tmp_path}/data/")
    path = tmp_path / "relaydesk.toml"
    path.write_text(text, encoding="utf-8")
    [before] = [c for c in run_checks(path) if c.name == "secret"]
    assert before.ok and not before.attention and "generates a random one into" in before.detail
    Runtime.open(load_config(path)).close()
    [after] = [c for c in run_checks(path) if c.name == "secret"]
    assert after.detail == f"generated at first start, kept in {tmp_path}/data/relaydesk.secret"


@pytest.mark.parametrize("smtp, warned", [
    ({"listen": "127.0.0.1:2525"}, False),
    ({"listen": "0.0.0.0:25"}, True),
    ({"listen": "[::]:25", "auth_users": {"mta": "x"}}, False),
])
def test_an_smtp_listener_beyond_this_machine_wants_tls_or_auth(smtp: dict, warned: bool) -> None:
    config = parse_config({"security": {"secret": "x" * 40}, "smtp": smtp})
    if warned:
        with pytest.raises(NeedsAttention, match="reachable from other machines without TLS or AUTH"):
            check_smtp_exposure(config)
    else:
        check_smtp_exposure(config)


@pytest.mark.parametrize("web, said", [
    ({"base_url": "https://desk.vendor.example", "listen": "0.0.0.0:8025"}, "point at https://desk.vendor.example"),
    ({"listen": "127.0.0.1:8025"}, "sign-in links point at http://127.0.0.1:8025 (web.listen)"),
    ({"listen": "0.0.0.0:8025"}, None),
    ({"listen": "127.0.0.1:0"}, None),
])
def test_where_mailed_links_point_and_a_warning_when_none_can_be_mailed(web: dict, said: str | None) -> None:
    config = parse_config({"security": {"secret": "x" * 40}, "web": web})
    if said is None:
        with pytest.raises(NeedsAttention, match="set web.base_url"):
            check_mail_links(config)
    else:
        assert said in check_mail_links(config)


def test_the_demo_config_has_no_safety_warnings(tmp_path: Path) -> None:
    path = tmp_path / "relaydesk.toml"
    path.write_text(demo_config_text(tmp_path), encoding="utf-8")
    rows = {c.name: c for c in run_checks(path)}
    assert not rows["secret"].attention and rows["channel secrets"].ok
    assert not rows["exposure of smtp.listen"].attention

"""Config: the demo and example files load; errors name the key; every key is documented."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from gateway.core.config import Config, ConfigError, load_config, parse_config
from tests.conftest import demo_config_text

ROOT = Path(__file__).resolve().parents[2]


def _keys(model: type[BaseModel]) -> set[str]:
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        keys.add(name)
        annotation = field.annotation
        for candidate in getattr(annotation, "__args__", ()) + (annotation,):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                keys |= _keys(candidate)
    return keys


def test_demo_config_loads_with_its_meaning(tmp_path: Path) -> None:
    path = tmp_path / "demo.toml"
    path.write_text(demo_config_text(tmp_path, 2525, 2626), encoding="utf-8")
    config = load_config(path)
    assert config.smtp.address == ("127.0.0.1", 2525)
    assert config.outbound.address == ("127.0.0.1", 2626)
    assert config.queue.broker == "embedded"
    assert config.hosted_addresses == {"support@vendor.example": "vendor", "service@partner.example": "partner"}
    assert config.account("subco").kind == "external"
    assert config.account("vendor").partners == ("partner", "fixit")
    assert config.security.secret == "test-secret-not-for-production"


def test_example_config_loads_and_documents_every_key() -> None:
    config = load_config(ROOT / "config.example.toml")
    assert config.accounts
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    undocumented = sorted(key for key in _keys(Config) if key not in text)
    assert undocumented == []


def test_errors_name_every_bad_key() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(
            {
                "security": {"secret": "short"},
                "smtp": {"listen": "nonsense"},
                "accounts": [{"slug": "a", "name": "A", "prefix": "A", "partners": ["ghost"], "addresses": ["x@a"]}],
            }
        )
    message = str(err.value)
    assert "security.secret" in message
    assert "smtp.listen" in message


def test_unknown_partner_and_unknown_key_are_refused() -> None:
    base = {"security": {"secret": "x" * 20}}
    with pytest.raises(ConfigError, match="unknown partner 'ghost'"):
        parse_config({**base, "accounts": [{"slug": "a", "name": "A", "prefix": "A", "addresses": ["x@a"], "partners": ["ghost"]}]})
    with pytest.raises(ConfigError, match="smtp.listn"):
        parse_config({**base, "smtp": {"listn": "127.0.0.1:25"}})


def test_secret_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_SECRET", "s" * 32)
    assert parse_config({"security": {"secret": "env:MY_SECRET"}}).security.secret == "s" * 32
    assert parse_config({"security": {"secret": "env:MY_SECRET"}, "smtp": {"auth_users": {"mta": "env:MY_SECRET"}}}
                        ).smtp.auth_users == {"mta": "s" * 32}
    monkeypatch.delenv("MY_SECRET")
    with pytest.raises(ConfigError, match="MY_SECRET is not set"):
        parse_config({"security": {"secret": "env:MY_SECRET"}})


def test_message_id_domain_defaults_to_one_per_installation(tmp_path: Path) -> None:
    demo = load_config(_written(tmp_path, demo_config_text(tmp_path)))
    assert demo.message_id_domain == "relaydesk.vendor.example"
    other = parse_config({"accounts": [{"slug": "fixit", "name": "FixIt", "prefix": "JOB",
                                        "addresses": ["jobs@FixIt.example"]}]})
    assert other.message_id_domain == "relaydesk.fixit.example"
    chosen = parse_config({"outbound": {"message_id_domain": "Mail.Vendor.example"}})
    assert chosen.message_id_domain == "mail.vendor.example"
    assert parse_config({}).message_id_domain == "relaydesk.invalid"  # nothing hosted yet


def _written(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "relaydesk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_imap_mailboxes_are_checked() -> None:
    box = {"account": "vendor", "host": "imap.example", "user": "u", "password": "p"}
    data = {"security": {"secret": "x" * 20},
            "accounts": [{"slug": "vendor", "name": "V", "prefix": "VND", "addresses": ["s@v.example"]},
                         {"slug": "ext", "name": "E", "prefix": "EXTP", "kind": "external", "domains": ["e.example"]}]}
    assert parse_config({**data, "imap": [box]}).imap[0].folders == ("INBOX",)
    with pytest.raises(ConfigError, match=r"imap\[0\]\.since: .*a date like 2026-01-01"):
        parse_config({**data, "imap": [{**box, "since": "last year"}]})
    with pytest.raises(ConfigError, match="names 'ext', which is not a hosted account"):
        parse_config({**data, "imap": [{**box, "account": "ext"}]})
    with pytest.raises(ConfigError, match=r"imap\[0\]\.after_import"):
        parse_config({**data, "imap": [{**box, "after_import": "delete"}]})


def test_a_telegram_webhook_needs_its_url() -> None:
    base = {"security": {"secret": "x" * 20}}
    with pytest.raises(ConfigError, match="telegram: .*needs webhook_url"):
        parse_config({**base, "telegram": {"token": "1:x", "mode": "webhook"}})
    config = parse_config({**base, "telegram": {"token": "1:x", "mode": "webhook", "webhook_url": "https://d.example/t"}})
    assert config.telegram.webhook_listen == "127.0.0.1:8443"
    assert config.telegram.file_base_url == "https://api.telegram.org/file/bot"

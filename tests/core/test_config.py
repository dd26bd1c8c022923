"""Config: the demo and example files load; errors name the key; every key is documented."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import BaseModel

from gateway.core.config_types import reveal
from gateway.core.config import Config, ConfigError, load_config, parse_config
from gateway.core.secret_check import missing_secrets
from gateway.core.secret_file import with_secret
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
    config = parse_config({"security": {"secret": "env:MY_SECRET"}, "smtp": {"auth_users": {"mta": "env:MY_SECRET"}}})
    assert reveal(config.smtp.auth_users["mta"]) == "s" * 32  # a channel's secret is read when it is used
    monkeypatch.delenv("MY_SECRET")
    with pytest.raises(ConfigError, match="MY_SECRET is not set"):
        parse_config({"security": {"secret": "env:MY_SECRET"}})


def test_a_channel_secret_is_needed_only_by_what_uses_the_channel(monkeypatch: pytest.MonkeyPatch) -> None:
    """`relaydesk tickets` loads a config whose IMAP password is unset; `serve` and `doctor` name the key."""
    monkeypatch.delenv("IMAP_PASSWORD", raising=False)
    monkeypatch.delenv("HOOK_SECRET", raising=False)
    config = parse_config({
        "accounts": [{"slug": "vendor", "name": "V", "prefix": "VND", "addresses": ["support@vendor.example"],
                      "webhooks": [{"url": "https://hooks.example/in", "secret": "env:HOOK_SECRET"}]}],
        "imap": [{"account": "vendor", "host": "imap.example", "user": "u", "password": "env:IMAP_PASSWORD"}],
    })
    hook = "accounts[0].webhooks[0].secret: environment variable HOOK_SECRET is not set"
    assert missing_secrets(config) == [hook, "imap[0].password: environment variable IMAP_PASSWORD is not set"]
    assert missing_secrets(config, pollers=False) == [hook]
    monkeypatch.setenv("IMAP_PASSWORD", "p")
    monkeypatch.setenv("HOOK_SECRET", "s" * 16)
    assert missing_secrets(config) == [] and reveal(config.imap[0].password) == "p"


def test_without_a_secret_one_is_generated_into_the_data_directory(tmp_path: Path, monkeypatch, caplog) -> None:
    monkeypatch.delenv("RELAYDESK_SECRET", raising=False)
    config = parse_config({"storage": {"url": f"sqlite:///{tmp_path}/db.sqlite", "blobs": str(tmp_path / "blobs")}})
    assert config.security.secret is None
    with caplog.at_level(logging.WARNING, logger="relaydesk"):
        first = with_secret(config).security.secret
    assert "generated a random one into" in caplog.text
    path = tmp_path / "relaydesk.secret"
    assert path.read_text().strip() == first and len(first) >= 32
    assert path.stat().st_mode & 0o077 == 0  # the owner's only
    assert with_secret(config).security.secret == first  # read back, not made again
    other = parse_config({"storage": {"blobs": str(tmp_path / "other" / "blobs")}})
    assert with_secret(other).security.secret != first  # each installation its own


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


def test_trusted_proxies_are_addresses_or_networks() -> None:
    base = {"security": {"secret": "x" * 20}}
    assert parse_config(base).web.trusted_proxies == ()
    config = parse_config({**base, "web": {"trusted_proxies": ["127.0.0.1", "10.0.0.0/8", "fd00::/8"]}})
    assert [str(network) for network in config.web.trusted_proxies] == ["127.0.0.1/32", "10.0.0.0/8", "fd00::/8"]
    for bad in ("proxy.internal", "10.0.0.1/8"):
        with pytest.raises(ConfigError, match=r"web\.trusted_proxies: .*neither an address"):
            parse_config({**base, "web": {"trusted_proxies": [bad]}})


def test_sign_in_links_point_at_base_url_else_at_a_listen_address_that_names_one() -> None:
    base = {"security": {"secret": "x" * 20}}

    def sign_in_base(**web: str) -> str | None:
        return parse_config({**base, "web": web}).web.sign_in_base

    assert sign_in_base(base_url="https://desk.example/", listen="0.0.0.0:8025") == "https://desk.example"
    assert sign_in_base() == "http://127.0.0.1:8025"
    assert sign_in_base(listen="10.1.2.3:8080") == "http://10.1.2.3:8080"
    assert sign_in_base(listen="desk.lan:8025") == "http://desk.lan:8025"
    assert sign_in_base(listen="[::1]:8025") == "http://[::1]:8025"
    for nowhere in ("0.0.0.0:8025", "[::]:8025", "127.0.0.1:0"):
        assert sign_in_base(listen=nowhere) is None, nowhere


def _with_terms(**account: object) -> dict:
    return {
        "security": {"secret": "x" * 20},
        "accounts": [
            {"slug": "a", "name": "A", "prefix": "A", "addresses": ["x@a"], "partners": ["p", "q"], **account},
            {"slug": "p", "name": "P", "prefix": "P", "kind": "external", "addresses": ["p@p"]},
            {"slug": "q", "name": "Q", "prefix": "Q", "kind": "external", "addresses": ["q@q"]},
        ],
    }


def test_partner_terms_take_the_account_defaults_key_by_key() -> None:
    config = parse_config(_with_terms(
        terms={"resolve_within": "2 business days", "business_hours": "Mon-Fri 08:00-18:00",
               "timezone": "Europe/Berlin", "pause_while": ["pending"]},
        partner_terms=[{"partner": "p", "accept_within": "4h", "remind_at": [0.75, 0.5], "backup_partner": "q"}],
        digest_hour=7,
    ))
    account = config.account("a")
    p = account.terms_for("p")
    assert (p.accept_within, p.resolve_within, p.remind_at, p.backup_partner) == ("4h", "2 business days",
                                                                                   (0.5, 0.75), "q")
    assert (p.timezone, p.pause_while) == ("Europe/Berlin", ("pending",))
    assert account.terms_for("q").accept_within is None and account.terms_for("q").resolve_within == "2 business days"
    assert account.digest_hour == 7


@pytest.mark.parametrize(("terms", "key"), [
    ({"partner": "p", "accept_within": "4 hours"}, "partner_terms[0].accept_within"),
    ({"partner": "p", "resolve_within": "soon"}, "partner_terms[0].resolve_within"),
    ({"partner": "p", "remind_at": [1.5]}, "partner_terms[0].remind_at"),
    ({"partner": "p", "pause_while": ["waiting"]}, "partner_terms[0].pause_while"),
    ({"partner": "p", "business_hours": "weekdays"}, "partner_terms[0].business_hours"),
    ({"partner": "p", "timezone": "Berlin"}, "partner_terms[0].timezone"),
    ({"partner": "p", "holidays": ["25.12."]}, "partner_terms[0].holidays"),
    ({"partner": "p", "acept_within": "4h"}, "partner_terms[0].acept_within"),
    ({"partner": "ghost"}, "partner_terms[0].partner"),
    ({"partner": "p", "backup_partner": "p"}, "partner_terms[0].backup_partner"),
    ({"partner": "p", "backup_partner": "ghost"}, "partner_terms[0].backup_partner"),
])
def test_bad_partner_terms_name_the_key(terms: dict, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(_with_terms(partner_terms=[terms]))
    assert key in str(err.value)


def test_partner_terms_twice_for_one_partner_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"partner_terms\[1\].partner: 'p' has terms twice"):
        parse_config(_with_terms(partner_terms=[{"partner": "p"}, {"partner": "p"}]))

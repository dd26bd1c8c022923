"""`relaydesk doctor`: is this installation able to work, and if not, why?

The probes live in `gateway.app.checks` (the API's health runs the same
ones); this module picks those that apply to a configuration and prints
them, OK, WARN or FAIL with one line of reason each, so an operator can fix
a deployment before mail starts piling up.  WARN rows (parked mail, failed
deliveries or webhooks, a silent channel, a secret anyone can read, an SMTP
listener open to other machines) leave the exit status at 0, so monitoring
can tell them from a broken deployment.  Checks never change state but one,
which says so: a missing `after_import = "move:X"` folder is created.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from gateway.app.activity import UP, channel_activity
from gateway.app.checks import (
    Check,
    attempt,
    check_blob_dir,
    check_broker,
    check_database,
    check_imap,
    check_listen,
    check_telegram,
    check_work,
    probe_smarthost,
)
from gateway.cli.doctor_safety import (
    check_channel_secrets,
    check_mail_links,
    check_secret,
    check_smtp_exposure,
)
from gateway.core.config import Config, ConfigError, load_config
from gateway.core.config_types import reveal
from storage.db import make_engine


def run_checks(config_path: Path | None) -> list[Check]:
    """Every check that applies to the configuration at `config_path`."""
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        return [Check("config", False, str(exc))]
    checks = [_config_summary(config, config_path)]
    checks.append(attempt("secret", lambda: check_secret(config)))
    checks.append(attempt("channel secrets", lambda: check_channel_secrets(config)))
    database = attempt("database", lambda: check_database(config.storage.url))
    checks.append(database)
    if database.ok and "will be created" not in database.detail:
        checks.append(attempt("work", lambda: check_work(config.storage.url)))
        checks += _activity(config)
    checks.append(attempt("blob store", lambda: check_blob_dir(config.storage.blobs)))
    checks.append(attempt("broker", lambda: check_broker(config.queue.broker)))
    checks.append(attempt(f"smtp listen {config.smtp.listen}", lambda: check_listen(*config.smtp.address)))
    checks.append(attempt("exposure of smtp.listen", lambda: check_smtp_exposure(config)))
    checks.append(attempt("links in mail", lambda: check_mail_links(config)))
    checks.append(attempt(f"smarthost {config.outbound.smarthost}", lambda: probe_smarthost(config.outbound)))
    for box in config.imap:
        checks.append(attempt(f"imap {box.user}@{box.host}:{box.port}", lambda box=box: check_imap(box)))
    if config.telegram is not None:
        telegram = config.telegram
        checks.append(attempt("telegram", lambda: check_telegram(telegram.base_url, reveal(telegram.token))))
    return checks


def _config_summary(config: Config, path: Path | None) -> Check:
    accounts = ", ".join(f"{a.slug} ({a.kind})" for a in config.accounts) or "no accounts"
    return Check("config", True, f"{path or 'embedded defaults'}: {accounts}")


def _activity(config: Config) -> list[Check]:
    """Each channel's last activity (IMAP folders, SMTP in and out, Telegram, webhooks): WARN unless Up."""
    engine = make_engine(config.storage.url)
    try:
        with Session(engine) as session:
            found = channel_activity(session, config)
    except Exception as exc:  # the doctor reports every failure, whatever its type
        return [Check("channels", False, str(exc).strip() or type(exc).__name__)]
    finally:
        engine.dispose()
    return [Check(a.name, True, f"{a.state.upper()}: {a.detail}", attention=a.state != UP) for a in found]


def print_checks(checks: list[Check]) -> None:
    """The report as a table for people; failures in red with their reason."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="relaydesk doctor")
    table.add_column("check")
    table.add_column("result")
    table.add_column("detail", overflow="fold")
    for check in checks:
        result = "[red]FAIL[/red]" if not check.ok else "[yellow]WARN[/yellow]" if check.attention else "[green]OK[/green]"
        table.add_row(check.name, result, check.detail)
    Console().print(table)

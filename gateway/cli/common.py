"""What every command shares: the `--config` and `--json` options, loading the config, opening the installation,
printing JSON, long runs."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer
from sqlalchemy.orm import Session

from gateway.core.config import Config, ConfigError, load_config
from gateway.core.runtime import Runtime

ConfigOption = Annotated[
    Optional[Path],
    typer.Option("--config", "-c", help="TOML config (default ./relaydesk.toml, else embedded defaults)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output (stable shape).")]


def load(path: Path | None) -> Config:
    """The config, or exit 2 with the message that names the bad key."""
    try:
        return load_config(path)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@contextmanager
def session_of(config: Config) -> Iterator[Session]:
    """One transaction on the installation, for a command that only reads or writes rows."""
    with Runtime.open(config) as runtime, runtime.db.transaction() as session:
        yield session


def print_json(value: object) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def run_until_stopped(run: Callable[[], None]) -> None:
    """A long-running process: log to stderr; a layout the config cannot support exits 2."""
    import logging

    from gateway.app.process import ServeError

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command at INFO
    # pika logs each step of every AMQP connection, and a lost one as a dozen errors with tracebacks; dramatiq's
    # consumers and relaydesk's enqueueing report an unreachable broker in one line each.
    logging.getLogger("pika").setLevel(logging.CRITICAL)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # a line per plugin at every start
    try:
        run()
    except ServeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None

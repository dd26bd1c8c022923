"""What every command shares: the `--config` and `--json` options, loading the config, printing JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from gateway.core.config import Config, ConfigError, load_config

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


def print_json(value: object) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")

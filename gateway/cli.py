"""`relaydesk` command line: one typer app, each command a thin shell.

Commands parse options, load the config and call into the module that does
the work, so the same work is reachable from tests without a subprocess.
`--json` output is the stable, documented shape of SPEC §10.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from gateway.config import Config, ConfigError, load_config

app = typer.Typer(no_args_is_help=True, add_completion=False, help="relaydesk: mail and chat threads become linked tickets.")

ConfigOption = Annotated[
    Optional[Path],
    typer.Option("--config", "-c", help="TOML config (default ./relaydesk.toml, else embedded defaults)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output (stable shape).")]


def _config(path: Path | None) -> Config:
    try:
        return load_config(path)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def _print_json(value: object) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


@app.command()
def parse(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A raw RFC 5322 message.")],
    as_json: JsonOption = False,
) -> None:
    """Parse one mail file and show what relaydesk reads from it (no database needed)."""
    from parsers import parse_message

    result = parse_message(file.read_bytes())
    if as_json:
        _print_json(result.to_json())
        return
    from gateway.views_text import print_parsed

    print_parsed(result)


@app.command()
def doctor(config: ConfigOption = None) -> None:
    """Check config, database, blob store, broker, smarthost, IMAP and Telegram; exit 1 on any FAIL."""
    from gateway.doctor import print_checks, run_checks

    checks = run_checks(config)
    print_checks(checks)
    if not all(check.ok for check in checks):
        raise typer.Exit(1)


if __name__ == "__main__":
    app()

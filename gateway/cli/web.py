"""`relaydesk web` and `relaydesk web-link`: the web desk alone, and a sign-in link printed for an operator."""

from __future__ import annotations

from typing import Annotated

import typer

from gateway.cli.common import ConfigOption, load, run_until_stopped, session_of


def web(config: ConfigOption = None) -> None:
    """Serve only the web desk and status pages on the web.listen address (any number of these, at scale)."""
    from gateway.web.server import run_web

    run_until_stopped(lambda: run_web(load(config)))


def web_link(
    address: Annotated[str, typer.Argument(help="An agent's or operator's address.")],
    config: ConfigOption = None,
) -> None:
    """Print a one-time sign-in link to the web desk for ADDRESS (valid web.sign_in_link_minutes)."""
    from gateway.web.auth import may_sign_in, sign_in_token
    from gateway.web.sign_in import sign_in_url

    settings = load(config)
    email = address.strip().lower()
    with session_of(settings) as session:
        allowed = may_sign_in(session, settings, email)
    if not allowed:
        typer.echo(f"error: {email} is no agent of a hosted account and not in web.operators", err=True)
        raise typer.Exit(1)
    base = settings.web.sign_in_base
    if base is None:
        typer.echo(f"error: {settings.web.no_link_address()}", err=True)
        raise typer.Exit(1)
    typer.echo(sign_in_url(base, sign_in_token(settings, email)))


def register(app: typer.Typer) -> None:
    """Add `web` and `web-link` to the command line."""
    app.command("web")(web)
    app.command("web-link")(web_link)

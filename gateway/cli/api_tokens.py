"""`relaydesk api-token create|list|revoke`: bearer tokens of the REST API.

The secret is printed once, at creation, and never again (only its SHA-256
is stored); `list` shows each token's scope, last use and whether it was
revoked.  A revoked token is refused at once (401).
"""

from __future__ import annotations

from typing import Annotated

import typer

from gateway.cli.common import ConfigOption, JsonOption, load, print_json, session_of
from gateway.core.api_tokens import SCOPES, create_token, revoke, tokens_of
from parsers.message import iso_utc
from storage.api_models import ApiToken
from storage.repositories import account_by_slug

app = typer.Typer(no_args_is_help=True, help="Bearer tokens of the REST API (/api/v1), one account each.")


@app.command("create")
def create(
    account: Annotated[str, typer.Argument(help="The account (slug) whose tickets the token reaches.")],
    scope: Annotated[str, typer.Option(help="read | write")] = "read",
    name: Annotated[str, typer.Option(help="What the token is for (shown in `list`).")] = "",
    config: ConfigOption = None,
) -> None:
    """Create a token and print its secret (shown this once only)."""
    if scope not in SCOPES:
        typer.echo(f"error: --scope must be one of {', '.join(SCOPES)}, not {scope!r}", err=True)
        raise typer.Exit(2)
    with session_of(load(config)) as session:
        found = account_by_slug(session, account)
        if found is None:
            typer.echo(f"error: no account {account!r}", err=True)
            raise typer.Exit(2)
        token, secret = create_token(session, found, name, scope)
        token_id = token.id
    typer.echo(f"token {token_id} ({account}, {scope}); the secret is shown this once:")
    typer.echo(secret)


@app.command("list")
def list_tokens(
    account: Annotated[str | None, typer.Option(help="Only this account's tokens.")] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Tokens: id, account, name, scope, created, last used, revoked. --json gives a list of those keys."""
    with session_of(load(config)) as session:
        rows = [_row(token) for token in tokens_of(session, account)]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        state = f"revoked {row['revoked_at']}" if row["revoked_at"] else f"last used {row['last_used_at'] or 'never'}"
        typer.echo(f"{row['id']:>4}  {row['account']:<16} {row['scope']:<5} {row['name'] or '-':<24} {state}")


@app.command("revoke")
def revoke_token(
    token_id: Annotated[int, typer.Argument(help="The token's id (see `relaydesk api-token list`).")],
    config: ConfigOption = None,
) -> None:
    """Revoke a token: every request with it is refused from now on."""
    with session_of(load(config)) as session:
        token = revoke(session, token_id)
    if token is None:
        typer.echo(f"error: no token {token_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"token {token_id} revoked")


def _row(token: ApiToken) -> dict[str, object]:
    return {
        "id": token.id, "account": token.account.slug, "name": token.name, "scope": token.scope,
        "created_at": iso_utc(token.created_at), "last_used_at": iso_utc(token.last_used_at),
        "revoked_at": iso_utc(token.revoked_at),
    }

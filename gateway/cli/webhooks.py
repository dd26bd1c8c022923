"""`relaydesk webhook list|test|deliveries`: the accounts' webhooks and their delivery log.

Deliveries are outbox rows of the `webhook` channel: `deliveries` shows each
one's event, state, attempts and last error (a receiver's HTTP status, or why
it could not be reached), newest first.  `test` POSTs one signed `ping` at
once, outside the outbox, to check the URL and the receiver's signature check.
"""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import func, select

from gateway.cli.common import ConfigOption, JsonOption, load, print_json, session_of
from gateway.core.config_types import reveal
from gateway.desk.webhook_events import CHANNEL
from gateway.outbound.transports import DeliveryError
from gateway.outbound.transports.webhook import post_event
from parsers.message import iso_utc
from storage.api_models import Webhook
from storage.models import Account, OutboxItem, utcnow

app = typer.Typer(no_args_is_help=True, help="Webhooks of the accounts (accounts.webhooks in the config) and their delivery log.")


@app.command("list")
def list_webhooks(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Configured webhooks with their events and deliveries so far (sent, pending, failed)."""
    settings = load(config)
    with session_of(settings) as session:
        counts = {(url, status): n for url, status, n in session.execute(
            select(OutboxItem.recipient, OutboxItem.status, func.count())
            .where(OutboxItem.channel == CHANNEL).group_by(OutboxItem.recipient, OutboxItem.status))}
    rows = [{"account": account.slug, "url": hook.url, "events": list(hook.events),
             **{status: counts.get((hook.url[:320], status), 0) for status in ("sent", "pending", "failed")}}
            for account in settings.accounts for hook in account.webhooks]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        typer.echo(f"{row['account']:<16} {row['url']}  sent {row['sent']}, pending {row['pending']}, "
                   f"failed {row['failed']}  [{', '.join(row['events'])}]")
    if not rows:
        typer.echo("no webhooks configured ([[accounts.webhooks]] in the config)")


@app.command("test")
def test_webhook(
    account: Annotated[str, typer.Argument(help="The account (slug).")],
    url: Annotated[str | None, typer.Option(help="Which of its webhooks (default: each).")] = None,
    config: ConfigOption = None,
) -> None:
    """POST a signed `ping` to the account's webhooks now; exit 1 if any refuses or cannot be reached."""
    settings = load(config)
    hooks = [h for a in settings.accounts if a.slug == account for h in a.webhooks if url in (None, h.url)]
    if not hooks:
        typer.echo(f"error: {account} has no webhook{' at ' + url if url else ''}", err=True)
        raise typer.Exit(2)
    failed = False
    for hook in hooks:
        body = {"id": 0, "type": "ping", "created_at": iso_utc(utcnow()), "account": account, "ticket": None, "data": {}}
        try:
            status = post_event(hook.url, reveal(hook.secret), "ping", 0, body, settings.outbound.timeout_seconds)
        except DeliveryError as exc:
            failed = True
            typer.echo(f"{hook.url}: FAILED: {exc}")
        else:
            typer.echo(f"{hook.url}: OK (HTTP {status})")
    if failed:
        raise typer.Exit(1)


@app.command("deliveries")
def deliveries(
    account: Annotated[str | None, typer.Option(help="Only this account's webhooks.")] = None,
    status: Annotated[str | None, typer.Option(help="pending, sent or failed.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 50,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """The delivery log. --json gives [{"id", "account", "url", "event", "event_id", "status", "attempts",
    "error", "created_at", "next_attempt_at", "sent_at"}]."""
    query = (select(OutboxItem, Account.slug).outerjoin(Webhook, Webhook.id == OutboxItem.payload["webhook_id"].as_integer())
             .outerjoin(Account, Webhook.account_id == Account.id)
             .where(OutboxItem.channel == CHANNEL).order_by(OutboxItem.id.desc()).limit(limit))
    if account:
        query = query.where(Account.slug == account)
    if status:
        query = query.where(OutboxItem.status == status)
    with session_of(load(config)) as session:
        rows = [_delivery(item, slug) for item, slug in session.execute(query)]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        error = f"  {row['error']}" if row["error"] else ""
        typer.echo(f"{row['id']:>6} {row['created_at']} {row['account'] or '?':<12} {row['event']:<22} "
                   f"{row['status']:<8} tries {row['attempts']}  {row['url']}{error}")


def _delivery(item: OutboxItem, slug: str | None) -> dict[str, object]:
    payload = item.payload or {}
    return {
        "id": item.id, "account": slug, "url": item.recipient, "event": payload.get("event"),
        "event_id": (payload.get("body") or {}).get("id"), "status": item.status, "attempts": item.attempts,
        "error": item.error, "created_at": iso_utc(item.created_at), "next_attempt_at": iso_utc(item.next_attempt_at),
        "sent_at": iso_utc(item.sent_at),
    }

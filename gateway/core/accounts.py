"""Accounts, their addresses and agents, mirrored from config into the database.

Config is the source of truth; the tables exist so that queries can join on
accounts and so tickets keep pointing at a stable id when config changes.
Ticket numbering (`last_number`) is never touched here.  A few accounts
exist only in the database (partners added by external handoff, accounts
since removed from config); `settings_for` answers for those too.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gateway.core.config import AccountConfig, Config
from storage.api_models import Webhook
from storage.models import Account, AccountAddress, Agent
from storage.claims import serialize_on


def account_matches(account: AccountConfig, email: str) -> bool:
    """`email` is one of the account's addresses, agents, or in one of its domains."""
    email = email.lower()
    domain = email.rpartition("@")[2]
    local, _, domain_part = email.rpartition("@")
    base = f"{local.split('+', 1)[0]}@{domain_part}"
    return (
        base in account.addresses
        or domain in account.domains
        or any(agent.email == base for agent in account.agents)
    )


def settings_for(config: Config, account: Account) -> AccountConfig:
    """The account's configured settings, else defaults around what the database knows of it."""
    try:
        return config.account(account.slug)
    except KeyError:
        pass
    stored = [a.address for a in account.addresses]
    return AccountConfig.model_construct(
        slug=account.slug, name=account.name, prefix=account.prefix, kind=account.kind,
        addresses=tuple(a for a in stored if not a.startswith("@")),
        domains=tuple(a[1:] for a in stored if a.startswith("@")),
    )


def sync_accounts(session: Session, config: Config) -> None:
    """Insert or update every configured account; idempotent.

    Several processes (`serve --no-worker` and its workers) start at once on
    a fresh database; without the lock two of them insert the same account
    and one fails on the unique slug.  SQLite serialises writers already.
    """
    serialize_on(session, "account sync")
    for spec in config.accounts:
        account = session.scalar(select(Account).where(Account.slug == spec.slug))
        if account is None:
            account = Account(slug=spec.slug, last_number=0)
            session.add(account)
        account.name = spec.name
        account.prefix = spec.prefix
        account.kind = spec.kind
        session.flush()
        _sync_addresses(session, account, spec)
        _sync_agents(session, account, spec)
        _sync_webhooks(session, account, spec)


def _sync_addresses(session: Session, account: Account, spec: AccountConfig) -> None:
    wanted = {addr: True for addr in spec.addresses}
    wanted.update({f"@{domain}": False for domain in spec.domains})
    session.execute(
        delete(AccountAddress).where(
            AccountAddress.account_id == account.id, AccountAddress.address.not_in(list(wanted))
        )
    )
    existing = {a.address: a for a in session.scalars(select(AccountAddress).where(AccountAddress.address.in_(list(wanted))))}
    for address, is_mailbox in wanted.items():
        row = existing.get(address)
        if row is None:
            session.add(AccountAddress(account_id=account.id, address=address, inbound=is_mailbox and spec.kind == "hosted"))
        else:
            row.account_id = account.id
            row.inbound = is_mailbox and spec.kind == "hosted"


def _sync_agents(session: Session, account: Account, spec: AccountConfig) -> None:
    current = list(session.scalars(select(Agent).where(Agent.account_id == account.id)))
    by_email = {a.email: a for a in current if a.email}
    by_telegram = {a.telegram_id: a for a in current if a.telegram_id is not None and not a.email}
    keep: set[int] = set()
    for agent_spec in spec.agents:
        # An agent is known by email; one with Telegram only (a contractor's crew) by that id.
        agent = by_email.get(agent_spec.email) if agent_spec.email else by_telegram.get(agent_spec.telegram)
        if agent is None:
            agent = Agent(account_id=account.id)
            session.add(agent)
        agent.name = agent_spec.name
        agent.email = agent_spec.email
        if agent_spec.telegram is not None:  # else keep an id linked with a one-time code (telegram_link)
            agent.telegram_id = agent_spec.telegram
        session.flush()
        keep.add(agent.id)
    for agent in current:
        if agent.id not in keep:
            session.delete(agent)


def _sync_webhooks(session: Session, account: Account, spec: AccountConfig) -> None:
    """Rows for the configured webhooks; a removed one is kept inactive, so its delivery log stays readable."""
    rows = {w.url: w for w in session.scalars(select(Webhook).where(Webhook.account_id == account.id))}
    for hook in spec.webhooks:
        row = rows.pop(hook.url, None) or Webhook(account_id=account.id, url=hook.url)
        row.events, row.active = list(hook.events), True
        session.add(row)
    for row in rows.values():
        row.active = False

"""Partners nobody configured: an external address a dispatcher forwards to.

An account with `allow_external_handoff` may hand a ticket to any outside
address.  The contractor behind it gets an external account of its own, made
on the first handoff, so its child ticket has a ref, its replies are known as
the executor's and it shows in `relaydesk report partners` like any other.

One account per domain — a firm's colleagues share it — except on public
mailbox providers, where every address is its own partner.  Ad-hoc accounts
take refs `EXT<n>-…`, a prefix family config may not use, so an operator who
later declares the partner (under the same slug, to adopt its history)
never collides with tickets already numbered.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.core.config import ADHOC_PREFIX, AccountConfig, Config
from storage.models import Account, AccountAddress
from storage.claims import serialize_on

SLUG_PREFIX = "ext-"

# Domains where unrelated people have mailboxes: the address, not the domain, is the partner.
PUBLIC_MAILBOX_DOMAINS = frozenset({
    "aol.com", "gmail.com", "googlemail.com", "gmx.at", "gmx.ch", "gmx.de", "gmx.net", "hotmail.com",
    "hotmail.co.uk", "hotmail.de", "hotmail.fr", "icloud.com", "live.com", "mac.com", "mail.com", "mail.ru",
    "me.com", "msn.com", "outlook.com", "outlook.de", "pm.me", "proton.me", "protonmail.com", "qq.com",
    "rambler.ru", "t-online.de", "ukr.net", "web.de", "yahoo.com", "yahoo.co.uk", "yahoo.de", "yahoo.fr",
    "yandex.com", "yandex.ru", "ya.ru", "zoho.com", "163.com", "126.com", "libero.it", "orange.fr", "free.fr",
    "laposte.net", "wp.pl", "onet.pl", "interia.pl", "seznam.cz",
})


def is_outside(config: Config, address: str) -> bool:
    """The address is no hosted account's mailbox or agent, and not at a hosted account's domain.

    A hosted account's colleagues are often not listed as agents; mail to
    anyone at its domains is internal, never a handoff.  An agent's mailbox
    at a public provider (a small firm on gmail.com) makes only that address
    internal, not the whole provider.
    """
    domain = address.rpartition("@")[2]
    if not domain or "@" not in address:
        return False
    for account in config.accounts:
        if account.kind != "hosted":
            continue
        mailboxes = {*account.addresses, *(agent.email for agent in account.agents if agent.email)}
        own = {*account.domains, *(m.rpartition("@")[2] for m in mailboxes)} - PUBLIC_MAILBOX_DOMAINS
        if address in mailboxes or domain in own:
            return False
    return True


def adhoc_settings(address: str, display_name: str = "") -> AccountConfig:
    """The settings of the ad-hoc partner behind `address` (its account may not exist yet).

    A firm is named by its domain, a person at a public provider by the name
    the dispatcher's mail gave them.  The prefix is the family's; the stored
    account gets its number.
    """
    address = address.lower()
    domain = address.rpartition("@")[2]
    personal = domain in PUBLIC_MAILBOX_DOMAINS
    key = address if personal else domain
    return AccountConfig.model_construct(
        slug=SLUG_PREFIX + re.sub(r"[^a-z0-9]+", "-", key).strip("-")[:60],
        name=(display_name.strip() or key) if personal else key,
        prefix=ADHOC_PREFIX,
        kind="external",
        addresses=(address,) if personal else (),
        domains=() if personal else (domain,),
    )


def ensure_account(session: Session, settings: AccountConfig) -> Account:
    """The stored account of an ad-hoc partner, created with the next free `EXT<n>` prefix.

    Workers adding partners at once take turns (the slug and the prefix
    number are both decided here), so neither fails on a unique constraint.
    """
    serialize_on(session, "ad-hoc partner")
    account = session.scalar(select(Account).where(Account.slug == settings.slug))
    if account is not None:
        return account
    taken = session.scalar(select(func.count()).select_from(Account).where(Account.prefix.like(f"{ADHOC_PREFIX}%")))
    number = (taken or 0) + 1
    while session.scalar(select(Account.id).where(Account.prefix == f"{ADHOC_PREFIX}{number}")) is not None:
        number += 1
    account = Account(slug=settings.slug, name=settings.name, prefix=f"{ADHOC_PREFIX}{number}", kind="external",
                      last_number=0)
    session.add(account)
    session.flush()
    for address in settings.addresses:
        session.add(AccountAddress(account_id=account.id, address=address, inbound=False))
    for domain in settings.domains:
        session.add(AccountAddress(account_id=account.id, address=f"@{domain}", inbound=False))
    session.flush()
    return account

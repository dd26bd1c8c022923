"""The schema migrates on both backends and its uniqueness rules hold."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from gateway.accounts import sync_accounts
from storage.migrate import upgrade
from storage.models import Account, Agent, InboxItem


def test_migrations_create_every_table_and_are_idempotent(runtime) -> None:
    upgrade(runtime.db.engine)  # second run is a no-op
    tables = set(inspect(runtime.db.engine).get_table_names())
    assert {"accounts", "tickets", "messages", "links", "events", "inbox_items", "outbox_items"} <= tables


def test_accounts_mirror_config(runtime) -> None:
    with runtime.db.transaction() as session:
        sync_accounts(session, runtime.config)  # again: no duplicates
    with runtime.db.transaction() as session:
        slugs = sorted(session.scalars(select(Account.slug)))
        dana = session.scalar(select(Agent).where(Agent.email == "dana@vendor.example"))
        assert slugs == ["fixit", "partner", "subco", "vendor"]
        assert dana is not None and dana.account.slug == "vendor"


def test_inbox_items_are_unique_per_channel_key(runtime) -> None:
    with runtime.db.transaction() as session:
        session.add(InboxItem(channel="smtp", dedupe_key="k1", raw_sha256="0" * 64, size=1))
    with pytest.raises(IntegrityError):
        with runtime.db.transaction() as session:
            session.add(InboxItem(channel="smtp", dedupe_key="k1", raw_sha256="0" * 64, size=1))

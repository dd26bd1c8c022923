"""The schema migrates on both backends and its uniqueness rules hold."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from gateway.core.accounts import sync_accounts
from gateway.core.config import AgentConfig
from storage.migrate import alembic_config, current_revision, head_revision, upgrade
from storage.models import Account, Agent, Base, InboxItem


def test_migrations_create_every_table_and_are_idempotent(runtime) -> None:
    upgrade(runtime.db.engine)  # second run is a no-op
    tables = set(inspect(runtime.db.engine).get_table_names())
    assert {"accounts", "tickets", "messages", "links", "events", "inbox_items", "outbox_items"} <= tables


def test_migrations_build_the_schema_the_models_describe(runtime) -> None:
    with runtime.db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_the_newest_migration_file_is_alembics_head(runtime) -> None:
    """`upgrade` skips Alembic when the database is at `head_revision()`: both must agree."""
    assert head_revision() == ScriptDirectory.from_config(alembic_config(runtime.config.storage.url)).get_current_head()
    assert current_revision(runtime.db.engine) == head_revision()


def test_accounts_mirror_config(runtime) -> None:
    with runtime.db.transaction() as session:
        sync_accounts(session, runtime.config)  # again: no duplicates
    with runtime.db.transaction() as session:
        slugs = sorted(session.scalars(select(Account.slug)))
        dana = session.scalar(select(Agent).where(Agent.email == "dana@vendor.example"))
        assert slugs == ["fixit", "partner", "subco", "vendor"]
        assert dana is not None and dana.account.slug == "vendor"


def test_an_agent_on_telegram_only_stays_one_agent_across_syncs(runtime) -> None:
    """Known by a Telegram id and no email (a contractor's crew): every start used to add them again."""
    crew = (AgentConfig(name="Sam Subco", telegram=444444),)
    accounts = tuple(a.model_copy(update={"agents": crew}) if a.slug == "subco" else a for a in runtime.config.accounts)
    config = runtime.config.model_copy(update={"accounts": accounts})
    for _ in range(3):
        with runtime.db.transaction() as session:
            sync_accounts(session, config)
    with runtime.db.transaction() as session:
        sams = session.scalars(select(Agent).where(Agent.telegram_id == 444444)).all()
        assert [(sam.name, sam.email, sam.account.slug) for sam in sams] == [("Sam Subco", None, "subco")]


def test_inbox_items_are_unique_per_channel_key(runtime) -> None:
    with runtime.db.transaction() as session:
        session.add(InboxItem(channel="smtp", dedupe_key="k1", raw_sha256="0" * 64, size=1))
    with pytest.raises(IntegrityError):
        with runtime.db.transaction() as session:
            session.add(InboxItem(channel="smtp", dedupe_key="k1", raw_sha256="0" * 64, size=1))

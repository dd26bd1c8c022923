"""Alembic environment: runs migrations on the URL given by the caller.

The URL comes from the `sqlalchemy.url` option that `storage.migrate` sets,
or from RELAYDESK_DATABASE_URL when `alembic` is run by hand.
"""

from __future__ import annotations

import os

from alembic import context

from storage.db import make_engine
from storage import api_models  # noqa: F401  (its tables join Base.metadata)
from storage import web_models  # noqa: F401  (so do the web desk's)
from storage.models import Base
import storage.deadline_models  # noqa: F401  (its tables belong to Base.metadata too)
import storage.channel_models  # noqa: F401  (and the channels' own state)

config = context.config
url = config.get_main_option("sqlalchemy.url") or os.environ.get("RELAYDESK_DATABASE_URL", "sqlite:///data/relaydesk.db")


def run_offline() -> None:
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        context.configure(connection=connectable, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()

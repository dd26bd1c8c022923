"""What every process of relaydesk holds: settings, database, blob store.

Built once per process (`serve`, `worker`, CLI commands) and passed
explicitly to the pipeline, actors and channels, so no module reads a
global config.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.core.accounts import sync_accounts
from gateway.core.config import Config
from gateway.core.secret_file import with_secret
from storage.blobs import BlobStore
from storage.db import Database
from storage.migrate import upgrade


@dataclass
class Runtime:
    config: Config
    db: Database
    blobs: BlobStore

    @classmethod
    def open(cls, config: Config, *, migrate: bool = True) -> "Runtime":
        """Connect, bring the schema up to date and mirror accounts from config (and find its secret)."""
        config = with_secret(config)
        db = Database(config.storage.url)
        if migrate:
            upgrade(db.engine)
        runtime = cls(config=config, db=db, blobs=BlobStore(config.storage.blobs))
        with db.transaction() as session:
            sync_accounts(session, config)
        return runtime

    def close(self) -> None:
        self.db.dispose()

    def __enter__(self) -> "Runtime":
        return self

    def __exit__(self, *_exc: object) -> None:
        """`with Runtime.open(config) as runtime:` closes the installation however the block ends."""
        self.close()

"""Bring a database to the newest schema with Alembic, from code.

Every process calls `upgrade()` at start, every CLI command too.  When the
version table already names the newest revision (the usual case) that is
one query, and Alembic, which takes longer to import than the command takes
to run, is not loaded at all.  On PostgreSQL an advisory lock keeps several
processes starting at once from migrating concurrently.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

_HERE = Path(__file__).resolve().parent
_LOCK_ID = 0x72656C61  # "rela"
_REVISION_FILE = re.compile(r"^(\d{4})_\w+\.py$")


def alembic_config(url: str) -> "AlembicConfig":
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig(str(_HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(_HERE / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    """The newest revision: migration files are numbered 0001_…, 0002_…, each revising the one before."""
    return max(found.group(1) for path in (_HERE / "migrations" / "versions").iterdir()
               if (found := _REVISION_FILE.match(path.name)))


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, None for an empty database."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine) -> None:
    """Apply every pending migration on `engine`'s database."""
    if current_revision(engine) == head_revision():
        return
    from alembic import command

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")

"""Bring a database to the newest schema with Alembic, from code.

Every process calls `upgrade()` at start; Alembic's version table makes it
a no-op when the schema is current.  On PostgreSQL an advisory lock keeps
several processes starting at once from migrating concurrently.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, text

_HERE = Path(__file__).resolve().parent
_LOCK_ID = 0x72656C61  # "rela"


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig(str(_HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(_HERE / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine) -> None:
    """Apply every pending migration on `engine`'s database."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")

"""Checks that the database schema is at least as new as this code needs.

Migrations are expand/contract: a schema newer than the code (written by a later release during a
rolling upgrade, or left after a rollback) is fine; an older one is refused.
"""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


class SchemaTooOld(RuntimeError):
    """The database lacks migrations this code depends on."""


def alembic_config(sqlalchemy_url: str | None = None) -> Config:
    """An alembic config for the migrations shipped inside the package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if sqlalchemy_url:
        # ConfigParser treats % as interpolation; a password may hold one.
        config.set_main_option("sqlalchemy.url", sqlalchemy_url.replace("%", "%%"))
    return config


def required_revision() -> str:
    """The head revision of this code's migrations."""
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"migrations must have exactly one head, found {heads}")
    return heads[0]


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        try:
            row = (await conn.execute(text("SELECT version_num FROM alembic_version"))).first()
        except ProgrammingError:
            return None
    return row[0] if row else None


async def ensure_schema_current(engine: AsyncEngine) -> str:
    """Return the database's revision, or raise SchemaTooOld naming what to run."""
    script = ScriptDirectory.from_config(alembic_config())
    needed = required_revision()
    current = await current_revision(engine)
    if current is None:
        raise SchemaTooOld(
            f"database schema is not initialised; this version needs revision {needed}: "
            "run 'ecis-migrate upgrade head' (or playbooks/migrate.yml)"
        )
    known = {rev.revision for rev in script.walk_revisions()}
    if current in known and current != needed:
        raise SchemaTooOld(
            f"database schema is at revision {current}; this version needs {needed}: "
            "run 'ecis-migrate upgrade head' (or playbooks/migrate.yml)"
        )
    return current

"""The database password rotation window, on the real PostgreSQL: the app is given the new
password before PostgreSQL has it, and new connections keep working before and after."""

from __future__ import annotations

import asyncio
import secrets

import psycopg
import pytest
from sqlalchemy import text

from app.core.config import Settings
from app.core.db import make_engine


@pytest.fixture
def role(postgres):
    """A login role of its own with password `old`, dropped afterwards."""
    name = f"rotating_{secrets.token_hex(4)}"
    old, new = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    with psycopg.connect(postgres.url("postgres"), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {name} LOGIN PASSWORD '{old}'")
    url = f"postgresql://{{}}:{{}}@127.0.0.1:{postgres.port}/postgres"
    yield name, url.format(name, old), url.format(name, new), new
    with psycopg.connect(postgres.url("postgres"), autocommit=True) as conn:
        conn.execute(f"DROP ROLE {name}")


def _connects(**settings) -> bool:
    async def attempt() -> bool:
        engine = make_engine(Settings(**settings))
        try:
            async with engine.connect() as conn:
                return (await conn.execute(text("SELECT current_user"))).scalar() is not None
        except Exception:
            return False
        finally:
            await engine.dispose()

    return asyncio.run(attempt())


def test_a_new_password_not_yet_in_postgres_falls_back_to_the_previous(postgres, role):
    name, old_url, new_url, new = role
    assert not _connects(DATABASE_URL=new_url), "the new password alone must be refused yet"
    assert _connects(DATABASE_URL=new_url, DATABASE_URL_PREVIOUS=old_url)

    with psycopg.connect(postgres.url("postgres"), autocommit=True) as conn:
        conn.execute(f"ALTER ROLE {name} PASSWORD '{new}'")
    assert _connects(DATABASE_URL=new_url, DATABASE_URL_PREVIOUS=old_url)
    assert _connects(DATABASE_URL=new_url)
    assert not _connects(DATABASE_URL=old_url), "the old password must be refused now"


def test_the_previous_url_is_scrubbed_like_the_current_one(role):
    _, old_url, new_url, _ = role
    scrubbed = Settings(DATABASE_URL=new_url, DATABASE_URL_PREVIOUS=old_url).secret_values()
    assert old_url in scrubbed and old_url.split(":")[2].split("@")[0] in scrubbed

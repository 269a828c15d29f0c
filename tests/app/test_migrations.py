"""Alembic migrations on a database that holds rows, and the API's schema gate."""

from __future__ import annotations

import json
import uuid

import httpx
import psycopg
import pytest

from tests.app.conftest import migrate
from tests.app.servers import AppProcess


@pytest.fixture
def scratch_env(postgres, redis_server, temporal_server) -> dict[str, str]:
    name = f"scratch_{uuid.uuid4().hex[:12]}"
    return {
        "DATABASE_URL": postgres.create_database(name),
        "REDIS_URL": redis_server.url,
        "TEMPORAL_HOST": temporal_server.address,
    }


def _count(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM orchestrations").fetchone()[0]


def _columns(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'orchestrations'"
        ).fetchall()
    return {row[0] for row in rows}


def _insert_rows(url: str, n: int) -> None:
    with psycopg.connect(url) as conn:
        for i in range(n):
            conn.execute(
                "INSERT INTO orchestrations (id, name, status, steps) VALUES (%s, %s, %s, %s)",
                (f"00000000-0000-0000-0000-{i:012d}", f"row-{i}", "completed", "[]"),
            )
            conn.execute(
                "INSERT INTO step_results (orchestration_id, position, name, action, status) "
                "VALUES (%s, 0, 's', 'echo', 'completed')",
                (f"00000000-0000-0000-0000-{i:012d}",),
            )


def test_upgrade_downgrade_upgrade_keeps_rows(scratch_env):
    url = scratch_env["DATABASE_URL"]
    assert migrate(scratch_env, "upgrade", "head").returncode == 0
    _insert_rows(url, 5)
    assert "idempotency_key" in _columns(url)

    down = migrate(scratch_env, "downgrade", "-1")
    assert down.returncode == 0, down.stderr
    assert _count(url) == 5
    assert "idempotency_key" not in _columns(url)

    up = migrate(scratch_env, "upgrade", "head")
    assert up.returncode == 0, up.stderr
    assert _count(url) == 5
    assert "idempotency_key" in _columns(url)
    current = migrate(scratch_env, "current")
    assert "0002 (head)" in current.stdout + current.stderr


def test_status_reports_what_upgrade_would_apply(scratch_env):
    fresh = json.loads(migrate(scratch_env, "status").stdout)
    assert fresh["current"] is None and fresh["head"] == fresh["target"] == "0002"
    assert fresh["pending"] == fresh["upgrade"] == ["0001", "0002"]
    assert fresh["downgrade"] == [] and fresh["known"] is True
    assert migrate(scratch_env, "upgrade", "0001").returncode == 0
    half = json.loads(migrate(scratch_env, "status").stdout)
    assert half["current"] == "0001" and half["pending"] == ["0002"]
    assert migrate(scratch_env, "upgrade", "head").returncode == 0
    assert json.loads(migrate(scratch_env, "status").stdout)["pending"] == []
    down = json.loads(migrate(scratch_env, "status", "0001").stdout)
    assert down["target"] == "0001" and down["downgrade"] == ["0002"] and down["upgrade"] == []


def test_status_of_a_schema_from_a_later_release_is_unknown_not_an_error(scratch_env):
    assert migrate(scratch_env, "upgrade", "head").returncode == 0
    with psycopg.connect(scratch_env["DATABASE_URL"]) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'f00dfeed0003'")
    later = json.loads(migrate(scratch_env, "status").stdout)
    assert later["current"] == "f00dfeed0003" and later["known"] is False
    assert later["upgrade"] == later["downgrade"] == []


def test_migrate_needs_a_target_for_downgrade(scratch_env):
    done = migrate(scratch_env, "downgrade")
    assert done.returncode == 2
    assert "target revision is required" in done.stderr


@pytest.mark.parametrize(
    ("revision", "message"),
    [
        (None, "database schema is not initialised"),
        ("0001", "database schema is at revision 0001; this version needs 0002"),
    ],
)
def test_api_refuses_a_schema_older_than_the_code(scratch_env, workdir, revision, message):
    if revision:
        assert migrate(scratch_env, "upgrade", revision).returncode == 0
    api = AppProcess("api", scratch_env, workdir / f"old-schema-{revision}.log")
    api.start(wait=False)
    assert api.process.wait(30) != 0
    assert message in api.log.read_text()


def test_api_accepts_a_schema_newer_than_the_code(scratch_env, workdir):
    """Expand/contract: a later release's extra migration must not stop this one."""
    url = scratch_env["DATABASE_URL"]
    assert migrate(scratch_env, "upgrade", "head").returncode == 0
    with psycopg.connect(url) as conn:
        conn.execute("ALTER TABLE orchestrations ADD COLUMN added_by_next_release text")
        conn.execute("UPDATE alembic_version SET version_num = 'f00dfeed0003'")
    api = AppProcess("api", scratch_env, workdir / "newer-schema.log").start()
    try:
        page = httpx.get(f"{api.base_url}/api/v1/orchestrations").json()
        assert page["total"] == 0
    finally:
        api.stop()

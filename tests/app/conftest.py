"""One real stack for the app tests: PostgreSQL, Redis, Temporal, then the API and a worker."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import httpx
import pytest

from tests.app.servers import AppProcess, Postgres, Redis, Temporal, wait_until


@pytest.fixture(scope="session")
def workdir() -> Path:
    # Outside pytest's 0700 temp root: the postgres user must reach its data directory here.
    path = Path(tempfile.mkdtemp(prefix="ecis-app-tests-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres(workdir):
    server = Postgres(workdir / "postgres")
    server.init()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server(workdir):
    server = Redis(workdir / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def temporal_server(workdir):
    server = Temporal(workdir / "temporal")
    server.start()
    yield server
    server.stop()


def migrate(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app.migrate", *args],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="session")
def app_env(postgres, redis_server, temporal_server) -> dict[str, str]:
    env = {
        "DATABASE_URL": postgres.create_database("ecis_orchestrator"),
        "REDIS_URL": redis_server.url,
        "TEMPORAL_HOST": temporal_server.address,
        "TEMPORAL_NAMESPACE": "default",
        # A queue of its own, so no other worker on this machine takes these tasks.
        "TEMPORAL_TASK_QUEUE": f"ecis-test-{uuid.uuid4().hex[:8]}",
        "LOG_LEVEL": "INFO",
        "ACTIVITY_HEARTBEAT_TIMEOUT": "2",
        "WORKER_SHUTDOWN_TIMEOUT": "20",
        "HEALTH_CHECK_TIMEOUT": "2",
    }
    done = migrate(env, "upgrade", "head")
    assert done.returncode == 0, done.stderr
    return env


@pytest.fixture(scope="session")
def api(app_env, workdir):
    process = AppProcess("api", app_env, workdir / "api.log").start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def worker(app_env, workdir):
    process = AppProcess("worker", app_env, workdir / "worker.log").start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def client(api) -> httpx.Client:
    with httpx.Client(base_url=api.base_url, timeout=10) as http:
        yield http


def finished(client: httpx.Client, orchestration_id: str, timeout: float = 60) -> dict:
    """Poll an orchestration until it is no longer running, and return it."""

    def done():
        body = client.get(f"/api/v1/orchestrations/{orchestration_id}").json()
        return body if body["status"] != "running" else None

    return wait_until(done, timeout, interval=0.3, what=f"orchestration {orchestration_id}")

"""The worker under a rolling restart (SIGTERM) and a crash (SIGKILL), on a queue of its own."""

from __future__ import annotations

import json
import signal
import uuid

import httpx
import pytest

from tests.app.conftest import finished
from tests.app.servers import AppProcess, wait_until


@pytest.fixture(scope="module")
def queue_env(app_env) -> dict[str, str]:
    # Its own task queue: the session's worker must not take over these steps.
    return {**app_env, "TEMPORAL_TASK_QUEUE": f"ecis-restart-{uuid.uuid4().hex[:8]}"}


@pytest.fixture(scope="module")
def restart_client(queue_env, workdir):
    api = AppProcess("api", queue_env, workdir / "restart-api.log").start()
    with httpx.Client(base_url=api.base_url, timeout=10) as http:
        yield http
    api.stop()


def _worker(queue_env, workdir) -> AppProcess:
    return AppProcess("worker", queue_env, workdir / "restart-worker.log").start()


def _step(client, orchestration_id: str, position: int) -> dict:
    return client.get(f"/api/v1/orchestrations/{orchestration_id}").json()["steps"][position]


def _wait_step_started(worker: AppProcess, orchestration_id: str, position: int) -> None:
    """Wait for the worker's own log line saying this step's activity is running."""

    def started() -> bool:
        for line in worker.log.read_text().splitlines():
            entry = json.loads(line)
            if (
                entry["message"] == "step started"
                and entry.get("orchestration_id") == orchestration_id
                and entry.get("position") == position
            ):
                return True
        return False

    wait_until(started, 30, what=f"step {position} of {orchestration_id} started")


def test_sigterm_lets_the_inflight_step_finish(restart_client, queue_env, workdir):
    worker = _worker(queue_env, workdir)
    steps = [
        {"name": "first", "action": "echo"},
        {"name": "slow", "action": "sleep", "params": {"seconds": 3}},
        {"name": "last", "action": "echo"},
    ]
    orchestration_id = restart_client.post(
        "/api/v1/orchestrations", json={"name": "graceful", "steps": steps}
    ).json()["id"]
    _wait_step_started(worker, orchestration_id, 1)
    assert _step(restart_client, orchestration_id, 1)["status"] == "pending"

    assert worker.stop(signal.SIGTERM) == 0
    # The worker exited only after the slow step finished, on its first attempt.
    slow = _step(restart_client, orchestration_id, 1)
    assert slow["status"] == "completed" and slow["attempt"] == 1, slow

    replacement = _worker(queue_env, workdir)
    try:
        body = finished(restart_client, orchestration_id)
    finally:
        replacement.stop()
    assert body["status"] == "completed"
    assert [s["attempt"] for s in body["steps"]] == [1, 1, 1]


def test_workflow_completes_after_the_worker_is_killed_mid_step(restart_client, queue_env, workdir):
    worker = _worker(queue_env, workdir)
    steps = [
        {"name": "first", "action": "echo"},
        {"name": "slow", "action": "sleep", "params": {"seconds": 4}},
        {"name": "last", "action": "sum", "params": {"values": [2, 2]}},
    ]
    orchestration_id = restart_client.post(
        "/api/v1/orchestrations", json={"name": "crash", "steps": steps}
    ).json()["id"]
    _wait_step_started(worker, orchestration_id, 1)

    worker.stop(signal.SIGKILL)
    assert _step(restart_client, orchestration_id, 1)["status"] == "pending"

    replacement = _worker(queue_env, workdir)
    try:
        body = finished(restart_client, orchestration_id, timeout=90)
    finally:
        replacement.stop()
    assert body["status"] == "completed", body
    # The killed attempt left no result; the step ran again on the new worker.
    assert body["steps"][1]["attempt"] >= 2
    assert body["steps"][2]["result"] == {"sum": 4}

"""Orchestrations end to end: API → Temporal workflow → activities → PostgreSQL → API."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from tests.app.conftest import finished

pytestmark = pytest.mark.usefixtures("worker")

STEPS = [
    {"name": "greet", "action": "echo", "params": {"hello": "world"}},
    {"name": "add", "action": "sum", "params": {"values": [1, 2, 3.5]}},
]


def _start(client, body=None, key=None):
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(
        "/api/v1/orchestrations", json=body or {"name": "demo", "steps": STEPS}, headers=headers
    )


def test_orchestration_runs_every_step_and_lands_in_postgres(client, app_env):
    response = _start(client)
    assert response.status_code == 202
    orchestration_id = response.json()["id"]

    body = finished(client, orchestration_id)
    assert body["status"] == "completed", body
    assert [s["status"] for s in body["steps"]] == ["completed", "completed"]
    assert body["steps"][0]["result"] == {"hello": "world"}
    assert body["steps"][1]["result"] == {"sum": 6.5}
    assert body["completed_at"] is not None

    with psycopg.connect(app_env["DATABASE_URL"]) as conn:
        status = conn.execute(
            "SELECT status FROM orchestrations WHERE id = %s", (orchestration_id,)
        ).fetchone()
        steps = conn.execute(
            "SELECT position, status FROM step_results WHERE orchestration_id = %s "
            "ORDER BY position",
            (orchestration_id,),
        ).fetchall()
    assert status == ("completed",)
    assert steps == [(0, "completed"), (1, "completed")]


def test_a_failing_step_fails_the_orchestration_and_stops_it(client):
    body = {
        "name": "breaks",
        "steps": [
            {"name": "boom", "action": "fail", "params": {"message": "disk on fire"}},
            {"name": "never", "action": "echo"},
        ],
    }
    orchestration_id = _start(client, body).json()["id"]
    result = finished(client, orchestration_id)
    assert result["status"] == "failed"
    assert "disk on fire" in result["error"]
    assert [s["status"] for s in result["steps"]] == ["failed", "pending"]


def test_idempotency_key_returns_the_first_answer_and_starts_once(client, app_env):
    key = f"key-{uuid.uuid4()}"
    first = _start(client, key=key)
    second = _start(client, key=key)
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    with psycopg.connect(app_env["DATABASE_URL"]) as conn:
        (count,) = conn.execute(
            "SELECT count(*) FROM orchestrations WHERE idempotency_key = %s", (key,)
        ).fetchone()
    assert count == 1
    assert finished(client, first.json()["id"])["status"] == "completed"


def test_idempotency_key_reused_with_another_body_is_a_conflict(client):
    key = f"key-{uuid.uuid4()}"
    assert _start(client, key=key).status_code == 202
    other = {"name": "other", "steps": [{"name": "x", "action": "echo"}]}
    response = _start(client, other, key=key)
    assert response.status_code == 409
    assert "Idempotency-Key" in response.json()["detail"]


def test_idempotency_keys_expire_in_redis(client, redis_server):
    import redis

    key = f"key-{uuid.uuid4()}"
    _start(client, key=key)
    ttl = redis.Redis.from_url(redis_server.url).ttl(f"ecis:idempotency:{key}")
    assert 0 < ttl <= 86400


def test_a_claim_already_holding_our_own_id_is_ours(redis_server):
    """A SET NX that reached Redis but whose answer was lost is retried by the client library;
    the retry finds the key taken by the same request and must not answer "already started"."""
    import asyncio
    import json
    from types import SimpleNamespace

    from redis.asyncio import Redis

    from app.api.routes.orchestrations import IDEMPOTENCY_PREFIX, _claim_key

    async def claim() -> tuple[str | None, str | None]:
        redis = Redis.from_url(redis_server.url)
        res = SimpleNamespace(redis=redis, settings=SimpleNamespace(IDEMPOTENCY_TTL_SECONDS=60))
        key = f"key-{uuid.uuid4()}"
        try:
            landed = json.dumps({"id": "ours", "fingerprint": "f"})
            await redis.set(IDEMPOTENCY_PREFIX + key, landed, nx=True, ex=60)
            mine = await _claim_key(res, key, "ours", "f")
            theirs = await _claim_key(res, key, "another", "f")
        finally:
            await redis.aclose()
        return mine, theirs

    mine, theirs = asyncio.run(claim())
    assert mine is None, "our own landed claim was taken for an earlier request"
    assert theirs == "ours", "a second request with the key must get the first answer"


def test_list_is_paged_newest_first(client):
    ids = [_start(client, {"name": f"page-{i}", "steps": STEPS}).json()["id"] for i in range(3)]
    page = client.get("/api/v1/orchestrations", params={"limit": 2}).json()
    assert page["limit"] == 2 and page["offset"] == 0
    assert page["total"] >= 3
    assert [item["id"] for item in page["items"]] == ids[::-1][:2]
    after = client.get("/api/v1/orchestrations", params={"limit": 2, "offset": 2}).json()
    assert ids[0] not in [item["id"] for item in page["items"]]
    assert after["items"], "the second page is empty"
    assert client.get("/api/v1/orchestrations", params={"limit": 0}).status_code == 422


def test_status_filter(client):
    orchestration_id = _start(client).json()["id"]
    finished(client, orchestration_id)
    page = client.get("/api/v1/orchestrations", params={"status": "completed", "limit": 100})
    assert all(item["status"] == "completed" for item in page.json()["items"])


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "steps": []},
        {"name": "x", "steps": [{"name": "s", "action": "rm -rf"}]},
        {"name": "x", "steps": [{"name": "s", "action": "sleep", "params": {"seconds": 9999}}]},
        {"steps": [{"name": "s", "action": "echo"}]},
    ],
)
def test_invalid_requests_are_refused_with_422(client, body):
    assert _start(client, body).status_code == 422


def test_unknown_orchestration_is_404(client):
    assert client.get(f"/api/v1/orchestrations/{uuid.uuid4()}").status_code == 404


def test_started_and_completed_counts_show_in_metrics(client):
    finished(client, _start(client).json()["id"])
    text = client.get("/metrics").text
    started = next(
        line for line in text.splitlines() if line.startswith("ecis_orchestrations_started_total")
    )
    completed = next(
        line
        for line in text.splitlines()
        if line.startswith('ecis_orchestrations{status="completed"}')
    )
    assert float(started.split()[-1]) >= 1
    assert float(completed.split()[-1]) >= 1

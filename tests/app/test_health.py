"""The seed's health endpoints and metrics, with every dependency real."""

from __future__ import annotations

import json
from importlib.metadata import version

import pytest

from tests.app.servers import AppProcess, wait_until

VERSION = version("ecis-orchestrator")


def test_health_answers_the_seed_json_exactly(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "healthy",
        "service": "ecis-orchestrator",
        "version": VERSION,
    }


def test_detailed_health_lists_every_dependency_up_with_latency(client):
    response = client.get("/health/detailed")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "healthy"
    assert body["version"] == VERSION
    assert set(body["dependencies"]) == {"database", "redis", "temporal"}
    for name, dep in body["dependencies"].items():
        assert dep["status"] == "up", name
        assert dep["latency_ms"] >= 0


@pytest.mark.parametrize("name", ["database", "redis", "temporal"])
def test_each_dependency_endpoint_answers_200_when_up(client, name):
    response = client.get(f"/health/{name}")
    assert response.status_code == 200
    assert response.json()["status"] == "up"


def test_metrics_are_prometheus_text_by_route(client):
    client.get("/health")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'ecis_http_requests_total{method="GET",route="/health",status="200"}' in text
    assert (
        'ecis_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/health"}' in text
    )
    for status in ("running", "completed", "failed"):
        assert f'ecis_orchestrations{{status="{status}"}}' in text
    assert "ecis_orchestrations_started_total" in text
    for dep in ("database", "redis", "temporal"):
        assert f'ecis_dependency_up{{dependency="{dep}"}} 1.0' in text


def test_openapi_docs_are_served(client):
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/v1/orchestrations" in paths and "/health/detailed" in paths


def test_api_logs_are_one_json_object_per_line(api, client):
    client.get("/health")
    lines = [line for line in api.log.read_text().splitlines() if line.strip()]
    assert lines, "the API wrote no log line"
    for line in lines:
        entry = json.loads(line)
        assert {"ts", "level", "logger", "message"} <= set(entry)
    assert any(json.loads(line)["message"] == "api started" for line in lines)


# The outage tests stop a real server, check the 503 and its reason, start it again and check
# that the API recovers by itself. They restore what they stop, so they can run in any order.


def _outage(client, name: str, stop, start, during=None) -> None:
    stop()
    try:
        down = wait_until(
            lambda: (r := client.get(f"/health/{name}")).status_code == 503 and r,
            30,
            what=f"/health/{name} reports 503",
        )
        body = down.json()
        assert body["status"] == "down" and body["reason"], body
        detailed = client.get("/health/detailed")
        assert detailed.status_code == 503
        assert detailed.json()["dependencies"][name]["status"] == "down"
        assert client.get("/health").status_code == 200, "liveness must not depend on deps"
        metrics = client.get("/metrics").text
        assert f'ecis_dependency_up{{dependency="{name}"}} 0.0' in metrics
        if during:
            during()
    finally:
        start()
    wait_until(
        lambda: client.get(f"/health/{name}").status_code == 200,
        60,
        what=f"/health/{name} recovers",
    )
    assert client.get("/health/detailed").status_code == 200


def test_database_outage_gives_503_then_recovers(client, postgres):
    _outage(client, "database", postgres.stop, postgres.start)


def test_redis_outage_gives_503_then_recovers(client, api, redis_server):
    def keyed_post_is_refused_and_the_log_says_why():
        offset = len(api.log.read_text())
        response = client.post(
            "/api/v1/orchestrations",
            json={"name": "during-outage", "steps": [{"name": "x", "action": "echo"}]},
            headers={"Idempotency-Key": "during-outage"},
        )
        assert response.status_code == 503
        assert "idempotency store (redis) unavailable" in response.json()["detail"]
        logged = [
            json.loads(line)["message"]
            for line in api.log.read_text()[offset:].splitlines()
            if "idempotency store" in line
        ]
        assert logged and "ConnectionError" in logged[0], logged
        assert redis_server.password not in logged[0]

    _outage(
        client,
        "redis",
        redis_server.stop,
        redis_server.start,
        during=keyed_post_is_refused_and_the_log_says_why,
    )


def test_temporal_outage_gives_503_then_recovers(client, temporal_server):
    _outage(client, "temporal", temporal_server.stop, temporal_server.start)


def test_no_secret_in_any_answer_or_log_line(client, api, postgres, redis_server):
    answers = [client.get(p).text for p in ("/health/detailed", "/metrics", "/openapi.json")]
    logs = api.log.read_text()
    for secret in (postgres.password, redis_server.password):
        assert all(secret not in text for text in answers)
        assert secret not in logs


def test_federation_gateway_is_checked_when_enabled(app_env, workdir):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import httpx

    class Gateway(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    gateway = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    threading.Thread(target=gateway.serve_forever, daemon=True).start()
    env = {
        **app_env,
        "FEDERATION_ENABLED": "true",
        "FEDERATION_GATEWAY_URL": f"http://127.0.0.1:{gateway.server_port}/health",
    }
    api = AppProcess("api", env, workdir / "federation-api.log").start()
    try:
        up = httpx.get(f"{api.base_url}/health/detailed", timeout=10)
        assert up.status_code == 200
        assert up.json()["dependencies"]["federation"]["status"] == "up"
        gateway.shutdown()
        gateway.server_close()
        down = httpx.get(f"{api.base_url}/health/detailed", timeout=10)
        assert down.status_code == 503
        assert down.json()["dependencies"]["federation"]["status"] == "down"
    finally:
        api.stop()

"""Prometheus metrics of the API process."""

from __future__ import annotations

import time

from prometheus_client import Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HTTP_REQUESTS = Counter(
    "ecis_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "ecis_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
ORCHESTRATIONS_STARTED = Counter(
    "ecis_orchestrations_started_total", "Orchestrations started by this API process"
)
ORCHESTRATIONS = Gauge(
    "ecis_orchestrations", "Orchestrations in the database by status", ["status"]
)
DEPENDENCY_UP = Gauge(
    "ecis_dependency_up", "1 when the dependency answered its last check, else 0", ["dependency"]
)
DEPENDENCY_LATENCY = Gauge(
    "ecis_dependency_check_seconds", "Duration of the last check of a dependency", ["dependency"]
)


class RequestMetrics:
    """ASGI middleware counting requests and their latency by route template, not raw path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            HTTP_REQUESTS.labels(method, template, str(status)).inc()
            HTTP_LATENCY.labels(method, template).observe(time.perf_counter() - started)

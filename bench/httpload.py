"""A closed-loop HTTP load: a fixed number of requests from a few concurrent clients, stopped
early by a time limit, every answer checked. Requests per second and latency percentiles."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from bench.common import percentile


@dataclass
class Outcome:
    requests: int
    failed: int
    seconds: float
    latencies_ms: list[float]
    first_failure: str = ""

    def figures(self) -> dict:
        return {
            "requests": self.requests,
            "failed": self.failed,
            "seconds": round(self.seconds, 3),
            "rps": round(self.requests / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(percentile(self.latencies_ms, 50), 2),
            "p99_ms": round(percentile(self.latencies_ms, 99), 2),
            "first_failure": self.first_failure,
        }


Check = Callable[[httpx.Response], bool]


def health_ok(answer: httpx.Response) -> bool:
    return answer.status_code == 200 and answer.json().get("status") == "healthy"


def hello_ok(answer: httpx.Response) -> bool:
    return answer.status_code == 200 and answer.json() == {"hello": "world"}


def accepted(answer: httpx.Response) -> bool:
    return answer.status_code == 202 and "id" in answer.json()


ORCHESTRATION = {"name": "bench", "steps": [{"name": "echo", "action": "echo"}]}


async def _run(
    url: str, method: str, check: Check, requests: int, clients: int, max_seconds: float
) -> Outcome:
    latencies: list[float] = []
    failures: list[str] = []
    tickets = iter(range(requests))
    deadline = time.monotonic() + max_seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client(http: httpx.AsyncClient) -> None:
        for _ in tickets:
            if time.monotonic() > deadline:
                return
            started = time.perf_counter()
            try:
                if method == "POST":
                    answer = await http.post(
                        url, json=ORCHESTRATION, headers={"Idempotency-Key": str(uuid.uuid4())}
                    )
                else:
                    answer = await http.get(url)
                ok = check(answer)
                if not ok:
                    failures.append(f"HTTP {answer.status_code} {answer.text[:100]}")
            except (httpx.HTTPError, ValueError) as exc:
                failures.append(f"{type(exc).__name__}: {exc}")
            latencies.append((time.perf_counter() - started) * 1000)

    async with httpx.AsyncClient(timeout=30, limits=limits, verify=False) as http:
        started = time.monotonic()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        seconds = time.monotonic() - started
    return Outcome(len(latencies), len(failures), seconds, latencies, (failures or [""])[0])


def run(
    url: str,
    *,
    method: str = "GET",
    check: Check = health_ok,
    requests: int = 2000,
    clients: int = 16,
    max_seconds: float = 60,
) -> Outcome:
    """Send `requests` requests (fewer if `max_seconds` runs out) and check every answer."""
    return asyncio.run(_run(url, method, check, requests, clients, max_seconds))

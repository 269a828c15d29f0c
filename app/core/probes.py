"""Checks of each dependency: does it answer, how fast, and if not, why (never a secret)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from app.core.metrics import DEPENDENCY_LATENCY, DEPENDENCY_UP


@dataclass
class ProbeResult:
    name: str
    up: bool
    latency_ms: float
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "status": "up" if self.up else "down",
            "latency_ms": round(self.latency_ms, 2),
        }
        if self.reason:
            body["reason"] = self.reason
        return body


async def _timed(
    name: str, check: Callable[[], Awaitable[None]], timeout: float, scrub: Callable[[str], str]
) -> ProbeResult:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(check(), timeout)
        up, reason = True, None
    except TimeoutError:
        up, reason = False, f"no answer within {timeout:g}s"
    except Exception as exc:  # any failure of a dependency is reported, not raised
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        up, reason = False, scrub(f"{type(exc).__name__}: {detail[0] if detail else ''}")
    elapsed = time.perf_counter() - started
    DEPENDENCY_UP.labels(name).set(1 if up else 0)
    DEPENDENCY_LATENCY.labels(name).set(elapsed)
    return ProbeResult(name, up, elapsed * 1000, reason)


async def probe_database(engine: AsyncEngine, timeout: float, scrub) -> ProbeResult:
    async def check() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    return await _timed("database", check, timeout, scrub)


async def probe_redis(redis: Redis, timeout: float, scrub) -> ProbeResult:
    async def check() -> None:
        await redis.ping()

    return await _timed("redis", check, timeout, scrub)


async def probe_temporal(client: Client, timeout: float, scrub) -> ProbeResult:
    async def check() -> None:
        serving = await client.service_client.check_health(timeout=timedelta(seconds=timeout))
        if not serving:
            raise RuntimeError("frontend is not SERVING")

    return await _timed("temporal", check, timeout, scrub)


async def probe_federation(url: str, timeout: float, scrub) -> ProbeResult:
    async def check() -> None:
        async with httpx.AsyncClient(timeout=timeout) as http:
            response = await http.get(url)
        if response.status_code >= 500:
            raise RuntimeError(f"gateway answered HTTP {response.status_code}")

    return await _timed("federation", check, timeout, scrub)

"""Health endpoints of the seed: /health, /health/detailed, /health/<dependency>, /metrics."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select

from app import SERVICE_NAME, __version__
from app.api.deps import Resources, ResourcesDep
from app.core import probes
from app.core.db import Orchestration
from app.core.metrics import ORCHESTRATIONS

router = APIRouter(tags=["health"])

ORCHESTRATION_STATUSES = ("running", "completed", "failed")


def _probe_calls(res: Resources) -> dict:
    timeout, scrub = res.settings.HEALTH_CHECK_TIMEOUT, res.scrubber.scrub
    calls = {
        "database": lambda: probes.probe_database(res.engine, timeout, scrub),
        "redis": lambda: probes.probe_redis(res.redis, timeout, scrub),
        "temporal": lambda: probes.probe_temporal(res.temporal, timeout, scrub),
    }
    if res.settings.FEDERATION_ENABLED and res.settings.FEDERATION_GATEWAY_URL:
        url = str(res.settings.FEDERATION_GATEWAY_URL)
        calls["federation"] = lambda: probes.probe_federation(url, timeout, scrub)
    return calls


async def _probe_all(res: Resources) -> list[probes.ProbeResult]:
    return list(await asyncio.gather(*(call() for call in _probe_calls(res).values())))


@router.get("/health")
async def health() -> dict[str, str]:
    """Liveness: the process answers. Dependencies are in /health/detailed."""
    return {"status": "healthy", "service": SERVICE_NAME, "version": __version__}


@router.get("/health/detailed")
async def health_detailed(res: ResourcesDep) -> JSONResponse:
    results = await _probe_all(res)
    healthy = all(r.up for r in results)
    body = {
        "status": "healthy" if healthy else "unhealthy",
        "service": SERVICE_NAME,
        "version": __version__,
        "dependencies": {r.name: r.as_dict() for r in results},
    }
    return JSONResponse(body, status_code=200 if healthy else 503)


async def _one(res: Resources, name: str) -> JSONResponse:
    result = await _probe_calls(res)[name]()
    return JSONResponse({"dependency": name, **result.as_dict()}, 200 if result.up else 503)


@router.get("/health/database")
async def health_database(res: ResourcesDep) -> JSONResponse:
    return await _one(res, "database")


@router.get("/health/redis")
async def health_redis(res: ResourcesDep) -> JSONResponse:
    return await _one(res, "redis")


@router.get("/health/temporal")
async def health_temporal(res: ResourcesDep) -> JSONResponse:
    return await _one(res, "temporal")


@router.get("/metrics", include_in_schema=False)
async def metrics(res: ResourcesDep) -> Response:
    results = await _probe_all(res)
    if next(r for r in results if r.name == "database").up:
        async with res.sessions() as session:
            rows = await session.execute(
                select(Orchestration.status, func.count()).group_by(Orchestration.status)
            )
            counts = dict(rows.all())
        for status in ORCHESTRATION_STATUSES:
            ORCHESTRATIONS.labels(status).set(counts.get(status, 0))
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

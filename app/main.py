"""The API: ``uvicorn app.main:app``. Settings are read at import, so a bad one stops the start."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff

from app import SERVICE_NAME, __version__
from app.api.deps import Resources
from app.api.routes import health, orchestrations
from app.core import temporal
from app.core.config import Settings, get_settings
from app.core.db import make_engine, make_sessionmaker
from app.core.logs import configure_logging
from app.core.metrics import RequestMetrics
from app.core.schema import ensure_schema_current

log = logging.getLogger("app.api")


def create_app(settings: Settings) -> FastAPI:
    scrubber = configure_logging(settings.LOG_LEVEL, settings.LOG_FORMAT, settings.secret_values())

    @asynccontextmanager
    async def lifespan(api: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings)
        # Refuse to serve on a schema older than this code; fails the start, systemd retries.
        revision = await ensure_schema_current(engine)
        redis = Redis.from_url(
            settings.REDIS_URL.get_secret_value(),
            max_connections=settings.REDIS_MAX_CONNECTIONS,
            socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
            socket_connect_timeout=settings.REDIS_SOCKET_TIMEOUT,
            retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), settings.REDIS_RETRIES),
        )
        # Lazy: the API starts while Temporal is still coming up and reconnects when it returns.
        client = await temporal.connect(settings, lazy=True)
        api.state.resources = Resources(
            settings, engine, make_sessionmaker(engine), redis, client, scrubber
        )
        log.info("api started", extra={"schema_revision": revision, "port": settings.API_PORT})
        try:
            yield
        finally:
            await redis.aclose()
            await engine.dispose()
            log.info("api stopped")

    api = FastAPI(title="ECIS Orchestrator", version=__version__, lifespan=lifespan)
    api.add_middleware(RequestMetrics)
    api.include_router(health.router)
    api.include_router(orchestrations.router)
    api.state.service = SERVICE_NAME
    return api


app = create_app(get_settings())

"""What route handlers depend on, as Annotated dependencies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from temporalio.client import Client

from app.core.config import Settings
from app.core.logs import SecretScrubber


@dataclass
class Resources:
    """Connections the API opens at start and closes at stop."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker
    redis: Redis
    temporal: Client
    scrubber: SecretScrubber


def get_resources(request: Request) -> Resources:
    return request.app.state.resources


ResourcesDep = Annotated[Resources, Depends(get_resources)]

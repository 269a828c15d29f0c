"""Start, read and list orchestrations: POST/GET /api/v1/orchestrations."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, HTTPException, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, model_validator
from redis.exceptions import RedisError
from sqlalchemy import delete, func, select
from sqlalchemy.exc import DBAPIError

from app.activities.steps import ACTIONS, MAX_SLEEP_SECONDS
from app.api.deps import Resources, ResourcesDep
from app.core.db import Orchestration, StepResult
from app.core.metrics import ORCHESTRATIONS_STARTED
from app.workflows.orchestration import OrchestrationInput, OrchestrationWorkflow, workflow_id

router = APIRouter(prefix="/api/v1/orchestrations", tags=["orchestrations"])

IDEMPOTENCY_PREFIX = "ecis:idempotency:"

log = logging.getLogger("app.api")


class StepSpec(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    action: Literal[ACTIONS]  # type: ignore[valid-type]
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _bounded_sleep(self) -> StepSpec:
        if self.action == "sleep":
            seconds = self.params.get("seconds", 1)
            if not isinstance(seconds, int | float) or not 0 <= seconds <= MAX_SLEEP_SECONDS:
                raise ValueError(f"sleep needs params.seconds between 0 and {MAX_SLEEP_SECONDS}")
        return self


class OrchestrationRequest(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    steps: list[StepSpec] = Field(min_length=1, max_length=50)


class Accepted(BaseModel):
    id: str
    status: Literal["running"] = "running"


class StepView(BaseModel):
    name: str
    action: str
    status: Literal["pending", "completed", "failed"]
    result: Any = None
    attempt: int | None = None


class OrchestrationView(BaseModel):
    id: str
    name: str
    status: Literal["running", "completed", "failed"]
    error: str | None = None
    created_at: datetime
    completed_at: datetime | None = None
    steps: list[StepView]


class OrchestrationPage(BaseModel):
    items: list[OrchestrationView]
    total: int
    limit: int
    offset: int


def _fingerprint(body: OrchestrationRequest) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def _claim_key(res: Resources, key: str, new_id: str, fingerprint: str) -> str | None:
    """Claim an Idempotency-Key for new_id; return the id that already holds it, if any."""
    redis_key = IDEMPOTENCY_PREFIX + key
    claim = json.dumps({"id": new_id, "fingerprint": fingerprint})
    try:
        if await res.redis.set(redis_key, claim, nx=True, ex=res.settings.IDEMPOTENCY_TTL_SECONDS):
            return None
        held = await res.redis.get(redis_key)
    except RedisError as exc:
        # The log says why (the log filter removes any secret); the client is told to retry.
        log.warning("idempotency store (redis) unavailable: %s: %s", type(exc).__name__, exc)
        raise HTTPException(503, "idempotency store (redis) unavailable; retry later") from None
    if held is None:  # expired between SET and GET: try once more
        return await _claim_key(res, key, new_id, fingerprint)
    stored = json.loads(held)
    if stored["id"] == new_id:
        # Our own claim: the client library retried a SET that had reached Redis.
        return None
    if stored["fingerprint"] != fingerprint:
        raise HTTPException(409, "Idempotency-Key was already used with a different request body")
    return stored["id"]


async def _release_key(res: Resources, key: str) -> None:
    # If Redis is down too, the key expires on its own; the client sees the 503 either way.
    with contextlib.suppress(RedisError):
        await res.redis.delete(IDEMPOTENCY_PREFIX + key)


@router.post("", status_code=202, response_model=Accepted)
async def start_orchestration(
    body: OrchestrationRequest,
    res: ResourcesDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Any:
    new_id = str(uuid.uuid4())
    if idempotency_key:
        existing = await _claim_key(res, idempotency_key, new_id, _fingerprint(body))
        if existing:
            return JSONResponse(Accepted(id=existing).model_dump(), status_code=202)
    steps = [step.model_dump() for step in body.steps]
    try:
        async with res.sessions.begin() as session:
            session.add(
                Orchestration(
                    id=new_id,
                    name=body.name,
                    status="running",
                    steps=steps,
                    idempotency_key=idempotency_key,
                )
            )
    except DBAPIError:
        if idempotency_key:
            await _release_key(res, idempotency_key)
        raise HTTPException(503, "database unavailable; retry later") from None
    try:
        await res.temporal.start_workflow(
            OrchestrationWorkflow.run,
            OrchestrationInput(
                orchestration_id=new_id,
                steps=steps,
                heartbeat_timeout_seconds=res.settings.ACTIVITY_HEARTBEAT_TIMEOUT,
            ),
            id=workflow_id(new_id),
            task_queue=res.settings.TEMPORAL_TASK_QUEUE,
        )
    except Exception:  # any failure to hand over to Temporal undoes the request
        async with res.sessions.begin() as session:
            await session.execute(delete(Orchestration).where(Orchestration.id == new_id))
        if idempotency_key:
            await _release_key(res, idempotency_key)
        raise HTTPException(503, "workflow engine (temporal) unavailable; retry later") from None
    ORCHESTRATIONS_STARTED.inc()
    return Accepted(id=new_id)


def _view(row: Orchestration, results: dict[int, StepResult]) -> OrchestrationView:
    steps = []
    for position, spec in enumerate(row.steps):
        done = results.get(position)
        steps.append(
            StepView(
                name=spec["name"],
                action=spec["action"],
                status=done.status if done else "pending",
                result=done.result if done else None,
                attempt=done.attempt if done else None,
            )
        )
    return OrchestrationView(
        id=row.id,
        name=row.name,
        status=row.status,
        error=row.error,
        created_at=row.created_at,
        completed_at=row.completed_at,
        steps=steps,
    )


async def _step_results(session, ids: list[str]) -> dict[str, dict[int, StepResult]]:
    by_id: dict[str, dict[int, StepResult]] = {i: {} for i in ids}
    if ids:
        rows = await session.scalars(select(StepResult).where(StepResult.orchestration_id.in_(ids)))
        for step in rows:
            by_id[step.orchestration_id][step.position] = step
    return by_id


@router.get("/{orchestration_id}", response_model=OrchestrationView)
async def get_orchestration(orchestration_id: uuid.UUID, res: ResourcesDep) -> Any:
    async with res.sessions() as session:
        row = await session.get(Orchestration, str(orchestration_id))
        if row is None:
            raise HTTPException(404, "no such orchestration")
        results = await _step_results(session, [row.id])
    return _view(row, results[row.id])


@router.get("", response_model=OrchestrationPage)
async def list_orchestrations(
    res: ResourcesDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
    status: Literal["running", "completed", "failed"] | None = None,
) -> Any:
    query = select(Orchestration)
    count = select(func.count()).select_from(Orchestration)
    if status:
        query = query.where(Orchestration.status == status)
        count = count.where(Orchestration.status == status)
    async with res.sessions() as session:
        total = await session.scalar(count)
        rows = list(
            await session.scalars(
                query.order_by(Orchestration.created_at.desc(), Orchestration.id)
                .limit(limit)
                .offset(offset)
            )
        )
        results = await _step_results(session, [row.id for row in rows])
    return OrchestrationPage(
        items=[_view(row, results[row.id]) for row in rows],
        total=total or 0,
        limit=limit,
        offset=offset,
    )

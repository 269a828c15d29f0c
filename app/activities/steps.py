"""The activities of an orchestration: run one step, record the outcome in PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from app.core.db import Orchestration, StepResult

log = logging.getLogger("app.activities")

ACTIONS = ("echo", "sum", "sleep", "fail")
MAX_SLEEP_SECONDS = 300


@dataclass
class StepInput:
    orchestration_id: str
    position: int
    name: str
    action: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class FinishInput:
    orchestration_id: str
    status: str
    error: str | None = None


async def _sleep_with_heartbeats(seconds: float) -> dict[str, Any]:
    """Sleep in short slices, heartbeating, so a dead worker is noticed and the step retried."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (left := deadline - loop.time()) > 0:
        activity.heartbeat(left)
        await asyncio.sleep(min(0.5, left))
    return {"slept": seconds}


async def perform(action: str, params: dict[str, Any]) -> Any:
    """What each step action does; a ValueError marks the step failed without retries."""
    if action == "echo":
        return params
    if action == "sum":
        values = params.get("values", [])
        if not all(isinstance(v, int | float) for v in values):
            raise ValueError("sum: params.values must be a list of numbers")
        return {"sum": sum(values)}
    if action == "sleep":
        seconds = float(params.get("seconds", 1))
        if not 0 <= seconds <= MAX_SLEEP_SECONDS:
            raise ValueError(f"sleep: params.seconds must be between 0 and {MAX_SLEEP_SECONDS}")
        return await _sleep_with_heartbeats(seconds)
    if action == "fail":
        raise ValueError(str(params.get("message", "step failed as asked")))
    raise ValueError(f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}")


class StepActivities:
    """Activities bound to one database; the worker registers its methods."""

    def __init__(self, sessions: async_sessionmaker) -> None:
        self._sessions = sessions

    async def _record(self, step: StepInput, status: str, result: Any) -> None:
        values = {
            "orchestration_id": step.orchestration_id,
            "position": step.position,
            "name": step.name,
            "action": step.action,
            "status": status,
            "result": result,
            "attempt": activity.info().attempt,
            "finished_at": datetime.now(UTC),
        }
        statement = insert(StepResult).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=[StepResult.orchestration_id, StepResult.position],
            set_={k: statement.excluded[k] for k in ("status", "result", "attempt", "finished_at")},
        )
        async with self._sessions.begin() as session:
            await session.execute(statement)

    @activity.defn(name="run_step")
    async def run_step(self, step: StepInput) -> Any:
        log.info(
            "step started",
            extra={
                "orchestration_id": step.orchestration_id,
                "position": step.position,
                "action": step.action,
                "attempt": activity.info().attempt,
            },
        )
        try:
            result = await perform(step.action, step.params)
        except ValueError as exc:
            await self._record(step, "failed", {"error": str(exc)})
            raise ApplicationError(str(exc), type="StepFailed", non_retryable=True) from None
        await self._record(step, "completed", result)
        return result

    @activity.defn(name="finish_orchestration")
    async def finish_orchestration(self, outcome: FinishInput) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(Orchestration)
                .where(Orchestration.id == outcome.orchestration_id)
                .values(status=outcome.status, error=outcome.error, completed_at=datetime.now(UTC))
            )

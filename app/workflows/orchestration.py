"""The orchestration workflow: its steps in order, each one activity, then the outcome recorded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from app.activities.steps import FinishInput, StepActivities, StepInput

# A step may sleep up to MAX_SLEEP_SECONDS; anything longer than this is a stuck worker.
STEP_TIMEOUT = timedelta(minutes=10)
# Database or network blips are retried; a step that fails on its own input is not (non_retryable).
TRANSIENT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=10)
)


@dataclass
class OrchestrationInput:
    orchestration_id: str
    steps: list[dict[str, Any]]
    heartbeat_timeout_seconds: float = 10.0


def workflow_id(orchestration_id: str) -> str:
    return f"orchestration-{orchestration_id}"


@workflow.defn(name="Orchestration")
class OrchestrationWorkflow:
    @workflow.run
    async def run(self, request: OrchestrationInput) -> dict[str, Any]:
        results: list[Any] = []
        for position, step in enumerate(request.steps):
            try:
                result = await workflow.execute_activity_method(
                    StepActivities.run_step,
                    StepInput(
                        orchestration_id=request.orchestration_id,
                        position=position,
                        name=step["name"],
                        action=step["action"],
                        params=step.get("params") or {},
                    ),
                    start_to_close_timeout=STEP_TIMEOUT,
                    heartbeat_timeout=timedelta(seconds=request.heartbeat_timeout_seconds),
                    retry_policy=TRANSIENT_RETRY,
                )
            except ActivityError as exc:
                reason = str(exc.cause) if exc.cause else str(exc)
                await self._finish(request.orchestration_id, "failed", f"step {position}: {reason}")
                return {"status": "failed", "failed_step": position, "results": results}
            results.append(result)
        await self._finish(request.orchestration_id, "completed", None)
        return {"status": "completed", "results": results}

    @staticmethod
    async def _finish(orchestration_id: str, status: str, error: str | None) -> None:
        await workflow.execute_activity_method(
            StepActivities.finish_orchestration,
            FinishInput(orchestration_id=orchestration_id, status=status, error=error),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=TRANSIENT_RETRY,
        )

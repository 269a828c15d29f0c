"""The Temporal worker: ``python -m app.workers.main_worker``.

On SIGTERM it stops polling and lets in-flight activities finish (WORKER_SHUTDOWN_TIMEOUT), so
a rolling restart loses no step; a step cut off by a crash is retried once its heartbeat lapses.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from datetime import timedelta

from sqlalchemy.exc import DBAPIError
from temporalio.worker import Worker

from app.activities.steps import StepActivities
from app.core import temporal
from app.core.config import Settings, get_settings
from app.core.db import make_engine, make_sessionmaker
from app.core.logs import configure_logging
from app.core.schema import SchemaTooOld, ensure_schema_current
from app.workflows.orchestration import OrchestrationWorkflow

log = logging.getLogger("app.worker")


async def run_worker(settings: Settings, stop: asyncio.Event) -> None:
    engine = make_engine(settings)
    try:
        revision = await ensure_schema_current(engine)
        client = await temporal.connect(settings)
        activities = StepActivities(make_sessionmaker(engine))
        worker = Worker(
            client,
            task_queue=settings.TEMPORAL_TASK_QUEUE,
            workflows=[OrchestrationWorkflow],
            activities=[activities.run_step, activities.finish_orchestration],
            graceful_shutdown_timeout=timedelta(seconds=settings.WORKER_SHUTDOWN_TIMEOUT),
        )
        async with worker:
            log.info(
                "worker started",
                extra={"task_queue": settings.TEMPORAL_TASK_QUEUE, "schema_revision": revision},
            )
            await stop.wait()
            log.info(
                "worker stopping; in-flight activities may finish",
                extra={"timeout_seconds": settings.WORKER_SHUTDOWN_TIMEOUT},
            )
        log.info("worker stopped")
    finally:
        await engine.dispose()


async def _main() -> int:
    settings = get_settings()
    configure_logging(settings.LOG_LEVEL, settings.LOG_FORMAT, settings.secret_values())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await run_worker(settings, stop)
    except SchemaTooOld as exc:
        log.error(str(exc))
        return 3
    except DBAPIError as exc:
        log.error("worker cannot reach the database: %s", exc.orig or exc)
        return 1
    except RuntimeError as exc:  # temporalio raises RuntimeError when it cannot connect
        log.error("worker cannot start: %s", exc)
        return 1
    return 0


def main() -> None:
    code = asyncio.run(_main())
    # Everything is closed by now (worker, engine). Leave without finalizing the interpreter:
    # temporalio's Rust threads can still call into Python while it finalizes, which aborts the
    # process ("PyGILState_Release: thread state ... must be current") and turns a graceful stop
    # into a crash that systemd records as a failure.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()

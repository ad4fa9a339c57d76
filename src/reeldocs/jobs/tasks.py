"""The engine's task: it takes an id and runs the pipeline in its own connections.

A job leaves its worker in one of three ways besides finishing: it is cancelled (the
engine aborts the task), the worker is stopped (the job is handed back to the queue),
or the database connection is lost (the job is handed back once the database answers
again). A handed-back job keeps its attempt count and resumes from its checkpoints.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import TYPE_CHECKING

import procrastinate
from procrastinate import JobContext
from procrastinate.job_context import AbortReason

from reeldocs.core.db import connection_lost
from reeldocs.core.settings import Settings
from reeldocs.jobs import lifecycle
from reeldocs.jobs.lifecycle import RequeueReason
from reeldocs.jobs.queue import PROCESS_VIDEO_TASK, QUEUE
from reeldocs.webhooks.outbox import DELIVER_TASK, WEBHOOK_QUEUE

if TYPE_CHECKING:  # the pipeline is imported by workers only, when a job runs
    from reeldocs.pipeline.runner import RunningJob, WorkerRuntime

_logger = logging.getLogger(__name__)

HAND_BACK_FIRST_DELAY = 0.2  # seconds between tries while the database is away, doubled
HAND_BACK_MAX_DELAY = 1.0
# Once the worker process is asked to stop, how long it keeps trying to reach the
# database to hand a job back before it leaves it to the other workers' sweepers.
HAND_BACK_PATIENCE_WHEN_STOPPING = 10.0


async def hand_back(context: JobContext, running: RunningJob, reason: RequeueReason) -> bool:
    """Requeue the job as soon as the database answers; True when it was handed back.

    While the worker process keeps running, this waits for the database as long as
    it takes: nothing else can happen to the job meanwhile, and giving up would leave
    the job to the sweepers, which would count it as an attempt of a dead worker.
    """
    runtime: WorkerRuntime = context.additional_context["runtime"]
    delay = HAND_BACK_FIRST_DELAY
    stopping_since: float | None = None
    while True:
        try:
            async with runtime.engine.begin() as conn:
                handed = await lifecycle.requeue(
                    conn,
                    context.app,
                    running.job_id,
                    lease=running.lease,
                    queue_job_id=running.queue_job_id,
                    reason=reason,
                )
        except Exception as error:
            if not connection_lost(error):
                raise
            if runtime.stopping.is_set():
                stopping_since = stopping_since or time.monotonic()
                if time.monotonic() - stopping_since > HAND_BACK_PATIENCE_WHEN_STOPPING:
                    _logger.error(
                        "job %s could not be handed back: the database did not answer "
                        "before the worker stopped; another worker's sweeper will take it",
                        running.job_id,
                    )
                    return False
            await asyncio.sleep(delay)
            delay = min(delay * 2, HAND_BACK_MAX_DELAY)
            continue
        if handed:
            _logger.info("job %s handed back to the queue (%s)", running.job_id, reason.value)
        return handed


def register_tasks(app: procrastinate.App, settings: Settings) -> None:
    @app.task(name=DELIVER_TASK, queue=WEBHOOK_QUEUE, pass_context=True)
    async def deliver_webhook(context: JobContext, delivery_id: str, manual: bool = False) -> None:
        from reeldocs.webhooks.delivery import attempt

        runtime = context.additional_context["runtime"]
        await attempt(runtime.engine, runtime.settings, uuid.UUID(delivery_id), manual=manual)

    @app.task(name=PROCESS_VIDEO_TASK, queue=QUEUE, pass_context=True)
    async def process_video(context: JobContext, job_id: str) -> None:
        from reeldocs.pipeline.runner import DatabaseLost, RunningJob, run_job

        runtime = context.additional_context["runtime"]
        running = RunningJob(uuid.UUID(job_id), context.job.id)
        try:
            await run_job(runtime, running)
        except DatabaseLost:
            await hand_back(context, running, RequeueReason.DATABASE_LOST)
        except asyncio.CancelledError:
            if context.abort_reason() == AbortReason.SHUTDOWN:
                # The engine's worker stops: the process was asked to, or the engine
                # lost its own connection (then the process starts a new one).
                reason = (
                    RequeueReason.WORKER_STOPPING
                    if runtime.stopping.is_set()
                    else RequeueReason.DATABASE_LOST
                )
                await asyncio.shield(hand_back(context, running, reason))
            raise

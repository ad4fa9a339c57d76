"""The engine's task: it takes an id and runs the pipeline in its own connections."""

from __future__ import annotations

import asyncio
import logging
import uuid

import procrastinate
import sqlalchemy as sa
from procrastinate import JobContext
from procrastinate.job_context import AbortReason

from reeldocs.core.settings import Settings
from reeldocs.jobs.queue import PROCESS_VIDEO_TASK, QUEUE

_logger = logging.getLogger(__name__)


async def requeue_after_shutdown(context: JobContext, job_id: uuid.UUID) -> None:
    """A worker asked to stop hands its job back instead of leaving it `processing`."""
    runtime = context.additional_context["runtime"]
    async with runtime.engine.begin() as conn:
        status = (
            await conn.execute(
                sa.text("SELECT status FROM processing_jobs WHERE id = :id FOR UPDATE"),
                {"id": job_id},
            )
        ).scalar_one_or_none()
        if status != "processing":
            return
        raw = await conn.get_raw_connection()
        queue_job_id = await context.app.configure_task(
            PROCESS_VIDEO_TASK, queue=QUEUE, connection=raw.driver_connection
        ).defer_async(job_id=str(job_id))
        await conn.execute(
            sa.text("UPDATE processing_jobs SET queue_job_id = :q WHERE id = :id"),
            {"q": queue_job_id, "id": job_id},
        )
    _logger.info("job %s handed back to the queue as the worker stops", job_id)


def register_tasks(app: procrastinate.App, settings: Settings) -> None:
    @app.task(name=PROCESS_VIDEO_TASK, queue=QUEUE, pass_context=True)
    async def process_video(context: JobContext, job_id: str) -> None:
        from reeldocs.pipeline.runner import run_job

        runtime = context.additional_context["runtime"]
        try:
            await run_job(runtime, uuid.UUID(job_id))
        except asyncio.CancelledError:
            if context.abort_reason() == AbortReason.SHUTDOWN:
                await asyncio.shield(requeue_after_shutdown(context, uuid.UUID(job_id)))
            raise

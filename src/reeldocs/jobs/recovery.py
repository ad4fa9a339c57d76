"""Where crashed jobs are recovered: the sweeper every worker runs beside its jobs.

A worker that dies (SIGKILL, power loss) stops sending heartbeats; its job stays
`doing` in the engine. Every few seconds each live worker asks for jobs whose
worker has been silent too long and puts them back in the queue; whoever picks
one up counts it as a new attempt (see jobs.lifecycle.claim).

It also requeues active jobs whose engine job ended without them: a worker that
lost the database could neither finish nor hand back its job, and the engine
recorded its job as ended once it could (jobs.lifecycle.recover_orphans). Those
cost no attempt.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import procrastinate
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from reeldocs.core.storage_async import AsyncStorage
from reeldocs.jobs import lifecycle, scratch
from reeldocs.videos.leftovers import remove_abandoned_uploads
from reeldocs.webhooks.delivery import requeue_stranded

_logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 2.0
STALLED_AFTER_SECONDS = 6.0
SWEEP_EVERY_SECONDS = 2.0
PRUNE_EVERY_SECONDS = 600.0
KEEP_FINISHED_HOURS = 24


async def _server_up_for(engine: AsyncEngine) -> float:
    async with engine.connect() as conn:
        seconds = (
            await conn.execute(
                sa.text("SELECT extract(epoch FROM now() - pg_postmaster_start_time())")
            )
        ).scalar_one()
    return float(seconds)


async def requeue_stalled_jobs(
    queue: procrastinate.App,
    engine: AsyncEngine,
    stalled_after: float = STALLED_AFTER_SECONDS,
    heartbeat: float = HEARTBEAT_SECONDS,
) -> int:
    # Right after the database server (re)started, a silent worker is most likely one
    # still reconnecting, not a dead one: give every worker the time to send a
    # heartbeat first, or a running job would be started again and counted an attempt.
    if await _server_up_for(engine) < stalled_after + heartbeat:
        return 0
    stalled = await queue.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after)
    count = 0
    for job in stalled:
        _logger.warning("job %s lost its worker; putting it back in the queue", job.id)
        await queue.job_manager.retry_job(job)
        count += 1
    return count


async def requeue_orphans(engine: AsyncEngine, queue: procrastinate.App) -> int:
    async with engine.begin() as conn:
        orphans = await lifecycle.recover_orphans(conn, queue)
    for job_id in orphans:
        _logger.warning(
            "job %s was left active after its engine job ended (the database was away); "
            "putting it back in the queue",
            job_id,
        )
    return len(orphans)


async def prune_finished(
    queue: procrastinate.App, stalled_after: float = STALLED_AFTER_SECONDS
) -> None:
    # The engine's rows are only plumbing: processing_jobs keeps the history users see.
    await queue.job_manager.delete_old_jobs(
        nb_hours=KEEP_FINISHED_HOURS,
        include_failed=True,
        include_cancelled=True,
        include_aborted=True,
    )
    await queue.job_manager.prune_stalled_workers(stalled_after * 10)


async def sweep_forever(
    queue: procrastinate.App,
    engine: AsyncEngine,
    stalled_after: float = STALLED_AFTER_SECONDS,
    heartbeat: float = HEARTBEAT_SECONDS,
    *,
    data_dir: Path | None = None,
    storage: AsyncStorage | None = None,
) -> None:
    """Requeue stalled and orphaned jobs every few seconds; every few minutes (and at
    once) prune the engine's old rows, remove the scratch folders of finished runs from
    `data_dir` and what interrupted uploads left in `storage` (see videos.leftovers)."""
    every = min(SWEEP_EVERY_SECONDS, stalled_after / 3)
    since_prune = PRUNE_EVERY_SECONDS
    while True:
        try:
            await requeue_stalled_jobs(queue, engine, stalled_after, heartbeat)
            await requeue_orphans(engine, queue)
            stranded = await requeue_stranded(engine)
            if stranded:
                _logger.warning(
                    "%d webhook deliveries had lost their attempt; queued again", stranded
                )
            if since_prune >= PRUNE_EVERY_SECONDS:
                await prune_finished(queue, stalled_after)
                if data_dir is not None:
                    await scratch.remove_finished_runs(engine, data_dir)
                    if storage is not None:
                        await remove_abandoned_uploads(engine, storage, data_dir)
                since_prune = 0.0
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a database restart must not end the sweeper
            _logger.warning("stalled-job sweep failed; trying again shortly", exc_info=True)
        await asyncio.sleep(every)
        since_prune += every

"""Where jobs are claimed: the worker process (or the worker inside `reeldocs serve`).

The engine's worker (Procrastinate) runs side tasks beside its jobs: the heartbeat
and the LISTEN connection. Both ride out a database restart here (see EngineWorker
and jobs.queue.QueueConnector). Should one die anyway, the engine's worker stops,
hands its running job back (see jobs.tasks) and returns as if it had been asked to
stop. Only a stop signal or a cancellation ends the loop here; any other end starts
a new engine worker, with a new pool, heartbeat and LISTEN connection, once the
database answers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from typing import Any

import procrastinate
from procrastinate.worker import Worker

from reeldocs.core.db import DatabaseUrls, connection_lost, create_engine
from reeldocs.core.settings import Settings
from reeldocs.core.storage import WORKER_TIMEOUTS, open_storage
from reeldocs.core.storage_async import AsyncStorage
from reeldocs.jobs.queue import QUEUE, build_queue
from reeldocs.jobs.recovery import sweep_forever
from reeldocs.pipeline.runner import WorkerRuntime
from reeldocs.providers.registry import build_providers
from reeldocs.webhooks.outbox import WEBHOOK_QUEUE

_logger = logging.getLogger(__name__)

# LISTEN/NOTIFY wakes workers within milliseconds; polling is the fallback for the
# moments it is not there (a database restart drops the LISTEN connection).
POLL_SECONDS = 1.0
RESTART_DELAY_SECONDS = 1.0
# How long a running job may finish after a stop request before it is handed back.
SHUTDOWN_GRACE_SECONDS = 2.0
# A starting engine worker deletes the rows of workers silent for this long. Their
# running jobs then count as stalled at once, so it must be far longer than a database
# restart keeps a live worker silent (the sweeper itself waits STALLED_AFTER_SECONDS).
FORGET_SILENT_WORKERS_AFTER_SECONDS = 60.0
# Webhook deliveries run beside the video jobs, on their own queue and their own engine
# worker: an endpoint that takes its 10 s to answer never holds a video job, nor the
# other way round. Each attempt is a short wait on the network.
WEBHOOK_CONCURRENCY = 4


class EngineWorker(Worker):
    """Procrastinate 3.10's worker, made to ride out a database restart.

    - The heartbeat keeps going through a lost connection (its task ended at the first
      error), and so does looking for jobs (an error there ended the worker, aborting
      its running job): both try again at their next turn, and the running job goes
      on as far as it can without the database.
    - Its monitor watched the side tasks only until the first one ended, and the
      periodic deferrer ends at once when there are no periodic tasks (Reeldocs has
      none): a side task that died later went unnoticed, and the worker went on
      without heartbeats, which made every job it ran look like a dead worker's.
      Here any side task that dies stops the worker, and the loop starts a new one.
    """

    async def _update_heartbeat(self) -> None:
        lost = False
        while True:
            await asyncio.sleep(self.update_heartbeat_interval)
            assert self.worker_id is not None
            try:
                await self.app.job_manager.update_heartbeat(self.worker_id)
            except Exception as error:
                if not connection_lost(error):
                    raise
                if not lost:
                    _logger.warning("the job engine could not send its heartbeat (%s)", error)
                lost = True
                continue
            if lost:
                _logger.info("the job engine sends its heartbeat again")
                lost = False

    async def _fetch_and_process_jobs(self) -> None:
        try:
            await super()._fetch_and_process_jobs()
        except Exception as error:
            if not connection_lost(error):
                raise
            # The run loop polls again after its polling interval.
            _logger.warning("the job engine could not look for jobs (%s)", error)

    async def _monitor_side_tasks(self, side_tasks: list[asyncio.Task[Any]]) -> None:
        watched = set(side_tasks)
        while watched:
            done, watched = await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task.cancelled() or task.exception() is None:
                    continue  # it had nothing to do (the periodic deferrer)
                _logger.warning(
                    "the job engine's %s task failed (%s); stopping the engine's worker",
                    task.get_name(),
                    task.exception(),
                )
                self.stop()
                return


def worker_name() -> str:
    """Which machine and process a worker is, for its logs and the engine's records."""
    return f"reeldocs-worker@{socket.gethostname()}:{os.getpid()}"


async def run_worker_forever(
    settings: Settings,
    urls: DatabaseUrls,
    *,
    concurrency: int = 1,
    install_signal_handlers: bool = False,
    name: str | None = None,
) -> None:
    # An attempt holds a connection while it waits for its endpoint (see webhooks.delivery).
    engine = create_engine(urls, pool_size=concurrency + WEBHOOK_CONCURRENCY + 2)
    runtime = WorkerRuntime(
        settings=settings,
        engine=engine,
        storage=AsyncStorage(
            open_storage(settings.storage_url, settings.s3_endpoint_url, timeouts=WORKER_TIMEOUTS)
        ),
        providers=build_providers(settings),
        transient_backoff=settings.retry_backoff_seconds,
    )
    loop = asyncio.get_running_loop()
    if install_signal_handlers:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, runtime.stopping.set)
    try:
        while not runtime.stopping.is_set():
            queue = build_queue(urls.libpq, settings)
            try:
                async with queue.open_async():
                    await _run_engine_worker(queue, runtime, concurrency, name)
                if not runtime.stopping.is_set():
                    _logger.warning(
                        "the job engine's worker stopped by itself (its database connection "
                        "was lost); starting it again in %.0f s",
                        RESTART_DELAY_SECONDS,
                    )
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - e.g. the database restarted: start again
                _logger.warning(
                    "worker lost its database connection; restarting in %.0f s",
                    RESTART_DELAY_SECONDS,
                    exc_info=True,
                )
            if not runtime.stopping.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(runtime.stopping.wait(), RESTART_DELAY_SECONDS)
    finally:
        runtime.stopping.set()
        if install_signal_handlers:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)
        await engine.dispose()


async def _run_engine_worker(
    queue: procrastinate.App, runtime: WorkerRuntime, concurrency: int, name: str | None
) -> None:
    """Run the engine's worker and the sweeper until either ends or a stop is asked."""
    settings = runtime.settings
    sweeper = asyncio.create_task(
        sweep_forever(
            queue,
            runtime.engine,
            settings.stalled_after_seconds,
            settings.heartbeat_seconds,
            data_dir=settings.data_dir,
            storage=runtime.storage,
        )
    )

    def engine_worker(queues: list[str], jobs_at_once: int, suffix: str) -> EngineWorker:
        return EngineWorker(
            app=queue,
            queues=queues,
            name=(name or worker_name()) + suffix,
            concurrency=jobs_at_once,
            wait=True,
            install_signal_handlers=False,  # ours set runtime.stopping
            fetch_job_polling_interval=POLL_SECONDS,
            abort_job_polling_interval=POLL_SECONDS,
            update_heartbeat_interval=settings.heartbeat_seconds,
            stalled_worker_timeout=max(
                FORGET_SILENT_WORKERS_AFTER_SECONDS, 10 * settings.stalled_after_seconds
            ),
            shutdown_graceful_timeout=SHUTDOWN_GRACE_SECONDS,
            additional_context={"runtime": runtime},
        )

    workers = {
        asyncio.create_task(engine_worker([QUEUE], concurrency, "").run()),
        asyncio.create_task(engine_worker([WEBHOOK_QUEUE], WEBHOOK_CONCURRENCY, "/webhooks").run()),
    }
    stop_asked = asyncio.create_task(runtime.stopping.wait())
    try:
        # Either engine worker stopping by itself (its connection was lost) stops both:
        # the loop above starts them again together.
        await asyncio.wait({*workers, stop_asked}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        runtime.stopping.set()  # `serve` is shutting down: hand jobs back as stopping
        raise
    finally:
        for worker in workers:
            if not worker.done():
                # Cancelling makes the engine stop gracefully: it stops fetching, lets the
                # running job finish for a moment, then aborts it (the task hands it back).
                worker.cancel()
        for worker in workers:
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        stop_asked.cancel()
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sweeper

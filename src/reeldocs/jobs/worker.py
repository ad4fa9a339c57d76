"""Where jobs are claimed: the worker process (or the worker inside `reeldocs serve`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket

from reeldocs.core.db import DatabaseUrls, create_engine
from reeldocs.core.settings import Settings
from reeldocs.core.storage import WORKER_TIMEOUTS, open_storage
from reeldocs.core.storage_async import AsyncStorage
from reeldocs.jobs.queue import QUEUE, build_queue
from reeldocs.jobs.recovery import sweep_forever
from reeldocs.pipeline.runner import WorkerRuntime
from reeldocs.providers.registry import build_providers

_logger = logging.getLogger(__name__)

# LISTEN/NOTIFY wakes workers within milliseconds; polling is the fallback for the
# moments it is not there (a database restart drops the LISTEN connection).
POLL_SECONDS = 1.0
RESTART_DELAY_SECONDS = 1.0


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
    engine = create_engine(urls, pool_size=concurrency + 2)
    runtime = WorkerRuntime(
        settings=settings,
        engine=engine,
        storage=AsyncStorage(
            open_storage(settings.storage_url, settings.s3_endpoint_url, timeouts=WORKER_TIMEOUTS)
        ),
        providers=build_providers(settings),
        transient_backoff=settings.retry_backoff_seconds,
    )
    try:
        while True:
            queue = build_queue(urls.libpq, settings)
            try:
                async with queue.open_async():
                    sweeper = asyncio.create_task(
                        sweep_forever(queue, settings.stalled_after_seconds)
                    )
                    try:
                        await queue.run_worker_async(
                            queues=[QUEUE],
                            name=name or worker_name(),
                            concurrency=concurrency,
                            wait=True,
                            install_signal_handlers=install_signal_handlers,
                            fetch_job_polling_interval=POLL_SECONDS,
                            abort_job_polling_interval=POLL_SECONDS,
                            update_heartbeat_interval=settings.heartbeat_seconds,
                            stalled_worker_timeout=settings.stalled_after_seconds,
                            shutdown_graceful_timeout=2.0,
                            additional_context={"runtime": runtime},
                        )
                    finally:
                        sweeper.cancel()
                        with contextlib.suppress(asyncio.CancelledError, Exception):
                            await sweeper
                return  # the worker stopped because it was asked to
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - e.g. the database restarted: start again
                _logger.warning(
                    "worker lost its database connection; restarting in %.0f s",
                    RESTART_DELAY_SECONDS,
                    exc_info=True,
                )
                await asyncio.sleep(RESTART_DELAY_SECONDS)
    finally:
        await engine.dispose()

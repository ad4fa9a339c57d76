"""The job engine (Procrastinate) wired to Reeldocs' database."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

import procrastinate
from procrastinate import connector as procrastinate_connector
from procrastinate import sql as procrastinate_sql

from reeldocs.core.db import TCP_SETTINGS, connection_lost
from reeldocs.core.settings import Settings
from reeldocs.jobs.fair import FairJobManager

_logger = logging.getLogger(__name__)

PROCESS_VIDEO_TASK = "reeldocs.process_video"
QUEUE = "videos"

# How long the LISTEN connection waits for a notification before it checks, with a
# query, that it is still alive (Procrastinate's own default is 30 s). After a database
# restart psycopg may not see the connection die until it sends something, and until
# then no notification arrives: jobs are found by polling only, once a second.
LISTEN_CHECK_SECONDS = 5.0
LISTEN_RETRY_SECONDS = 1.0


class QueueConnector(procrastinate.PsycopgConnector):
    """Procrastinate's psycopg connector, whose LISTEN connection outlives the database.

    Procrastinate 3.10 reconnects a LISTEN connection that died, but when the server
    is still down at that moment the listener ends with an error, and nothing starts
    it again: the worker goes on polling, without notifications. This one tries again
    every second until the server answers, then listens again.
    """

    async def listen_notify(
        self, on_notification: procrastinate_connector.Notify, channels: Iterable[str]
    ) -> None:
        channels = list(channels)
        lost = False
        while True:
            try:
                async with self._get_standalone_connection() as connection:
                    for channel in channels:
                        await connection.execute(
                            self._make_dynamic_query(
                                query=procrastinate_sql.queries["listen_queue"],
                                channel_name=channel,
                            )
                        )
                    if lost:
                        _logger.info("the job engine listens for new jobs again")
                        lost = False
                    # Returns when the connection died: listen again on a new one.
                    await self._loop_notify(
                        on_notification=on_notification,
                        connection=connection,
                        timeout=LISTEN_CHECK_SECONDS,
                    )
                    _logger.warning("the job engine lost its LISTEN connection; reconnecting")
                    lost = True
            except Exception as error:
                if not connection_lost(error):
                    raise
                if not lost:
                    _logger.warning(
                        "the job engine lost its LISTEN connection (%s); listening again "
                        "once the database answers",
                        error,
                    )
                    lost = True
                await asyncio.sleep(LISTEN_RETRY_SECONDS)


def build_queue(libpq_url: str, settings: Settings) -> procrastinate.App:
    # Small pool: the web process only defers and cancels; workers get their own.
    connector = QueueConnector(
        conninfo=libpq_url, min_size=1, max_size=10, kwargs=dict(TCP_SETTINGS)
    )
    app = procrastinate.App(connector=connector)
    # Before any task is registered: tasks keep the manager they were made with.
    app.job_manager = FairJobManager(
        connector, fair_queues=[QUEUE], max_active=settings.org_max_active_jobs
    )
    from reeldocs.jobs.tasks import register_tasks

    register_tasks(app, settings)
    return app

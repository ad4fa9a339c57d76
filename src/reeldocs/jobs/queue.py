"""The job engine (Procrastinate) wired to Reeldocs' database."""

from __future__ import annotations

from typing import Any

import procrastinate
from procrastinate import connector as procrastinate_connector

from reeldocs.core.db import TCP_SETTINGS
from reeldocs.core.settings import Settings

PROCESS_VIDEO_TASK = "reeldocs.process_video"
QUEUE = "videos"

# How long the LISTEN connection waits for a notification before it checks, with a
# query, that it is still alive (Procrastinate's own default is 30 s). After a database
# restart psycopg may not see the connection die until it sends something, and until
# then no notification arrives: jobs are found by polling only, once a second.
LISTEN_CHECK_SECONDS = 5.0


class QueueConnector(procrastinate.PsycopgConnector):
    """Procrastinate's psycopg connector, with a shorter liveness check of LISTEN."""

    async def _loop_notify(
        self,
        on_notification: procrastinate_connector.Notify,
        connection: Any,
        timeout: float = LISTEN_CHECK_SECONDS,  # noqa: ASYNC109 - the engine's own signature
    ) -> None:
        await super()._loop_notify(
            on_notification=on_notification, connection=connection, timeout=timeout
        )


def build_queue(libpq_url: str, settings: Settings) -> procrastinate.App:
    # Small pool: the web process only defers and cancels; workers get their own.
    connector = QueueConnector(
        conninfo=libpq_url, min_size=1, max_size=10, kwargs=dict(TCP_SETTINGS)
    )
    app = procrastinate.App(connector=connector)
    from reeldocs.jobs.tasks import register_tasks

    register_tasks(app, settings)
    return app

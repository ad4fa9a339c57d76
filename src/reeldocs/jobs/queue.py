"""The job engine (Procrastinate) wired to Reeldocs' database."""

from __future__ import annotations

import procrastinate

from reeldocs.core.settings import Settings

PROCESS_VIDEO_TASK = "reeldocs.process_video"
QUEUE = "videos"


def build_queue(libpq_url: str, settings: Settings) -> procrastinate.App:
    # Small pool: the web process only defers and cancels; workers get their own.
    connector = procrastinate.PsycopgConnector(conninfo=libpq_url, min_size=1, max_size=10)
    app = procrastinate.App(connector=connector)
    from reeldocs.jobs.tasks import register_tasks

    register_tasks(app, settings)
    return app

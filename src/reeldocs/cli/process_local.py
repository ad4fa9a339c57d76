"""`reeldocs process` in local mode: the embedded (or configured) database, as the operator.

Each file is stored and read as an upload is, its job is made as the API makes one, and a
worker started in this process runs it (any other worker on the database may take it
instead; the command follows the job's row either way). The docs are written with the
export module, as the app's `/export` zip.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from reeldocs.cli.process_display import Display, Followed
from reeldocs.cli.process_run import Request, Run
from reeldocs.core.db import DatabaseUrls, create_engine
from reeldocs.core.errors import Invalid
from reeldocs.core.settings import Settings

if TYPE_CHECKING:
    from reeldocs.docs.export import ExportTree
    from reeldocs.jobs.schemas import JobOut
    from reeldocs.projects.models import Project

T = TypeVar("T")


async def _in_session(engine: AsyncEngine, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
        return await work(session)


class LocalRun(Run):
    poll_seconds = 0.5

    def __init__(
        self, settings: Settings, urls: DatabaseUrls, request: Request, display: Display
    ) -> None:
        from reeldocs.core.storage import open_storage
        from reeldocs.core.storage_async import AsyncStorage
        from reeldocs.jobs.queue import build_queue

        super().__init__(request, display)
        self.settings = settings
        self.urls = urls
        self.engine = create_engine(urls, pool_size=2)
        self.storage = AsyncStorage(open_storage(settings.storage_url, settings.s3_endpoint_url))
        # Never opened: each engine job is queued on the command's own transaction.
        self.queue = build_queue(urls.libpq, settings)
        self.project: Project | None = None

    async def open(self) -> None:
        from reeldocs.projects.service import (
            command_line_project,
            get_by_reference,
            parse_reference,
        )

        reference = self.request.project
        self.project = await _in_session(
            self.engine,
            lambda session: (
                get_by_reference(session, parse_reference(reference))
                if reference is not None
                else command_line_project(session)
            ),
        )

    def background(self) -> Coroutine[Any, Any, None]:
        """The worker that runs the jobs while the command waits for them."""
        from reeldocs.jobs.worker import run_worker_forever

        return run_worker_forever(self.settings, self.urls, concurrency=1)

    async def start_one(self, path: Path, item: Followed) -> None:
        from reeldocs.jobs.service import create_job_as_operator
        from reeldocs.videos.service import add_local_file_as_operator

        assert self.project is not None
        project = self.project
        async with AsyncSession(self.engine, expire_on_commit=False) as session:
            video = await add_local_file_as_operator(
                session, self.storage, self.settings, project, path
            )
        item.video_id = video.id
        job = await _in_session(
            self.engine,
            lambda session: create_job_as_operator(
                session, self.queue, self.settings, video.id, self.request.languages
            ),
        )
        item.job_id = job.id
        item.status = job.status

    async def read_job(self, item: Followed) -> JobOut:
        from reeldocs.jobs.service import get_job_as_operator

        assert item.job_id is not None
        return await _in_session(self.engine, partial(get_job_as_operator, job_id=item.job_id))

    async def export(self, item: Followed) -> Path:
        from reeldocs.docs.export import plan_tree, write_tree
        from reeldocs.videos.models import Video

        request = self.request
        base_url = self.settings.base_url(f"http://{self.settings.host}:{self.settings.port}")

        async def plan(session: AsyncSession) -> ExportTree:
            video = await session.get(Video, item.video_id)
            if video is None:
                raise Invalid("The video was deleted while it was processed.")
            return await plan_tree(
                session,
                video,
                fmt=request.fmt.value,
                include_video=request.include_video,
                base_url=base_url,
            )

        tree = await _in_session(self.engine, plan)
        return await write_tree(tree, self.storage, request.out_dir)

    async def cancel(self, item: Followed) -> str:
        from reeldocs.jobs.service import cancel_job_as_operator

        assert item.job_id is not None
        job = await _in_session(self.engine, partial(cancel_job_as_operator, job_id=item.job_id))
        return job.status

    async def close(self) -> None:
        await self.engine.dispose()

"""`reeldocs process --server URL --token TOKEN`: the same steps through a server's API.

Each file is sent as the upload form sends it (streamed, its bytes counted on the
display), its job started with `POST /api/videos/process`, followed with ETag polls
(an unchanged job costs the server a 304), and its docs fetched as the `/export` zip
and unpacked into the same `<video-slug>/` folder local mode writes. No database is
opened on this machine.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path

import anyio
import anyio.to_thread

from reeldocs.cli.process_display import Display, Followed
from reeldocs.cli.process_run import Request, Run
from reeldocs.cli.server_api import ServerApi, ServerProject, ServerRefused
from reeldocs.jobs.schemas import JobOut

# How long the server may stay out of reach before the command stops following a job
# (the job goes on on the server; `reeldocs jobs show` finds it later).
PATIENCE_SECONDS = 120.0


class ServerRun(Run):
    poll_seconds = 1.0

    def __init__(self, api: ServerApi, request: Request, display: Display) -> None:
        super().__init__(request, display)
        self.api = api
        self.project: ServerProject | None = None
        self._etags: dict[int, str] = {}
        self._unreachable_since: dict[int, float] = {}

    async def open(self) -> None:
        from reeldocs.projects.service import parse_reference

        assert self.request.project is not None  # the command requires it with --server
        self.project = await self.api.find_project(parse_reference(self.request.project))

    async def start_one(self, path: Path, item: Followed) -> None:
        assert self.project is not None
        item.message = "Uploading"
        item.transferred = (0, (await anyio.Path(path).stat()).st_size)

        def sent(done: int, total: int | None) -> None:
            item.transferred = (done, total)
            self.display.changed(item)

        self.display.started(item)
        video = await self.api.upload(self.project, path, sent)
        item.transferred = None
        item.video_id = uuid.UUID(video["id"])
        item.message = "Waiting for a worker"
        item.job_id = await self.api.start_job(item.video_id, self.request.languages)
        item.status = "pending"

    async def read_job(self, item: Followed) -> JobOut | None:
        assert item.job_id is not None
        key = id(item)
        try:
            job, self._etags[key] = await self.api.job(item.job_id, self._etags.get(key))
        except ServerRefused as error:
            if not error.passing:
                item.error = error.detail
                item.ended = True
                self.display.ended(item)
                return None
            first = self._unreachable_since.setdefault(key, time.monotonic())
            if time.monotonic() - first > PATIENCE_SECONDS:
                item.error = (
                    f"{error.detail} The job goes on on the server: `reeldocs jobs show "
                    f"{item.job_id} --server {self.api.server}` follows it."
                )
                item.ended = True
                self.display.ended(item)
            return None
        self._unreachable_since.pop(key, None)
        return job

    async def export(self, item: Followed) -> Path:
        from reeldocs.docs.export import DamagedExport, unpack_zip

        assert item.video_id is not None
        item.message = "Downloading the docs"
        out_dir = self.request.out_dir

        def received(done: int, total: int | None) -> None:
            item.transferred = (done, total)
            self.display.changed(item)

        await anyio.Path(out_dir).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=out_dir, prefix=".download-") as folder:
            archive = Path(folder) / "export.zip"
            await self.api.download_export(
                item.video_id,
                fmt=self.request.fmt.value,
                include_video=self.request.include_video,
                target=archive,
                progress=received,
            )
            try:
                return await anyio.to_thread.run_sync(unpack_zip, archive, out_dir)
            except DamagedExport as error:
                raise ServerRefused(str(error)) from None

    async def cancel(self, item: Followed) -> str:
        assert item.job_id is not None
        return await self.api.cancel(item.job_id)

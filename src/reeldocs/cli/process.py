"""`reeldocs process`: videos on this machine in, a folder of docs out, in one command.

Local mode works on the embedded (or configured) database as the operator, through the
services the web app uses: each file is stored and read as an upload is, its job is made
as the API makes one, and a worker started in this process runs it (any other worker on
the database may take it instead; the command follows the job's row either way). Each
completed video's docs are written with the export module, as the app's `/export` zip.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import signal
import sys
from collections.abc import Awaitable, Callable
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import anyio
import typer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from reeldocs.cli.local import database_errors, prepare
from reeldocs.cli.output import flag
from reeldocs.cli.process_display import Display, Followed, open_display
from reeldocs.core.db import DatabaseUrls, create_engine
from reeldocs.core.errors import Invalid, ReeldocsError
from reeldocs.core.settings import Settings

if TYPE_CHECKING:
    from reeldocs.docs.export import ExportTree
    from reeldocs.projects.models import Project

T = TypeVar("T")

POLL_SECONDS = 0.5
EXIT_INTERRUPTED = 130
FINAL_STATUSES = ("completed", "failed", "cancelled", "retried")


class ExportFormatChoice(StrEnum):
    markdown = "markdown"
    mdx = "mdx"


class ProviderChoice(StrEnum):
    auto = "auto"
    gemini = "gemini"
    offline = "offline"
    openai = "openai"


@dataclasses.dataclass(frozen=True)
class Request:
    files: list[Path]
    languages: list[str]
    out_dir: Path
    fmt: ExportFormatChoice
    include_video: bool
    project: str | None


def _languages(text: str) -> list[str]:
    codes = [code.strip().lower() for code in text.split(",")]
    if not all(codes):
        raise typer.BadParameter(
            "Give language codes separated by commas, the docs' language first: en or en,es.",
            param_hint="'--languages'",
        )
    return codes


def process(
    videos: Annotated[
        list[Path],
        typer.Argument(metavar="VIDEO...", help="The video files to make docs of."),
    ],
    languages: Annotated[
        str,
        typer.Option(
            help="The docs' language first, then the languages to translate them into: en,es."
        ),
    ] = "en",
    out: Annotated[Path, typer.Option(help="Where the docs go: one folder per video.")] = Path(
        "reeldocs-out"
    ),
    fmt: Annotated[
        ExportFormatChoice, typer.Option("--format", help="Markdown, or MDX for Docusaurus.")
    ] = ExportFormatChoice.markdown,
    provider: Annotated[
        ProviderChoice | None,
        typer.Option(help="Which provider this command's worker uses (REELDOCS_PROVIDER)."),
    ] = None,
    as_json: Annotated[
        bool, flag("--json", "Print one JSON object per video as it ends, no live display.")
    ] = False,
    project: Annotated[
        str | None,
        typer.Option(
            metavar="ORG_SLUG/PROJECT_SLUG",
            help='The project to add the videos to, or its id (default: "Command line").',
        ),
    ] = None,
    no_video: Annotated[
        bool, flag("--no-video", "Leave the video file out; links go to the app instead.")
    ] = False,
) -> None:
    """Process videos on this machine and write their docs into a folder."""
    from reeldocs.jobs.service import validate_languages
    from reeldocs.projects.service import parse_reference
    from reeldocs.providers.base import ProviderError
    from reeldocs.providers.registry import build_providers

    codes = _languages(languages)
    if project is not None:
        try:
            parse_reference(project)
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint="'--project'") from None
    settings, urls = prepare()
    if provider is not None:
        settings = dataclasses.replace(settings, provider=provider.value)
    try:
        build_providers(settings)
    except ProviderError as error:
        if provider is None:
            typer.echo(f"Error: {error.message}", err=True)
            raise typer.Exit(1) from None
        raise typer.BadParameter(error.message, param_hint="'--provider'") from None
    try:
        codes = validate_languages(settings, codes)
    except Invalid as error:
        raise typer.BadParameter(error.detail, param_hint="'--languages'") from None
    request = Request(videos, codes, out, fmt, not no_video, project)
    try:
        with database_errors():
            code = asyncio.run(_run(settings, urls, request, as_json))
    except ReeldocsError as error:  # the project named cannot be used
        typer.echo(f"Error: {error.detail}", err=True)
        raise typer.Exit(1) from None
    raise typer.Exit(code)


async def _in_session(engine: AsyncEngine, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
        return await work(session)


def _base_url(settings: Settings) -> str:
    return settings.base_url(f"http://{settings.host}:{settings.port}")


class Run:
    """One command's videos, from the files to the written docs."""

    def __init__(
        self, settings: Settings, urls: DatabaseUrls, request: Request, display: Display
    ) -> None:
        from reeldocs.core.storage import open_storage
        from reeldocs.core.storage_async import AsyncStorage
        from reeldocs.jobs.queue import build_queue

        self.settings = settings
        self.urls = urls
        self.request = request
        self.display = display
        self.engine = create_engine(urls, pool_size=2)
        self.storage = AsyncStorage(open_storage(settings.storage_url, settings.s3_endpoint_url))
        # Never opened: each engine job is queued on the command's own transaction.
        self.queue = build_queue(urls.libpq, settings)
        self.interrupted = asyncio.Event()
        self.followed: list[Followed] = []

    async def start_jobs(self) -> None:
        from reeldocs.projects.service import (
            command_line_project,
            get_by_reference,
            parse_reference,
        )

        reference = self.request.project
        project = await _in_session(
            self.engine,
            lambda session: (
                get_by_reference(session, parse_reference(reference))
                if reference is not None
                else command_line_project(session)
            ),
        )
        for path in self.request.files:
            if self.interrupted.is_set():
                return
            item = Followed(given=str(path), label=path.name or str(path))
            self.followed.append(item)
            try:
                await self._start_one(project, path, item)
            except ReeldocsError as error:
                self._refuse(item, error.detail)
            except OSError as error:
                self._refuse(item, f"The file could not be read ({error.strerror or error}).")
            else:
                self.display.started(item)

    async def _start_one(self, project: Project, path: Path, item: Followed) -> None:
        from reeldocs.jobs.service import create_job_as_operator
        from reeldocs.videos.service import add_local_file_as_operator

        if not await anyio.Path(path).exists():
            raise Invalid("There is no such file: check the path and try again.")
        if not await anyio.Path(path).is_file():
            raise Invalid("This is not a file: give the path of a video file.")
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

    def _refuse(self, item: Followed, sentence: str) -> None:
        item.status = "refused"
        item.error = sentence
        self.display.ended(item)

    async def follow(self, worker: asyncio.Task[None]) -> None:
        """Read the jobs' rows until every one has ended, or Ctrl-C."""
        from reeldocs.jobs.service import get_job_as_operator

        while not self.interrupted.is_set():
            if worker.done():
                self._worker_stopped(worker)
                return
            waiting = [item for item in self.followed if item.job_id and not item.ended]
            if not waiting:
                return
            for item in waiting:
                assert item.job_id is not None
                job = await _in_session(
                    self.engine, partial(get_job_as_operator, job_id=item.job_id)
                )
                item.status = job.status
                item.progress = job.progress
                item.step = job.step
                item.message = job.step_message or job.step
                item.language_results = job.language_results
                if job.status in FINAL_STATUSES:
                    await self._finish(item, job.error_message)
                else:
                    self.display.changed(item)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.interrupted.wait(), POLL_SECONDS)

    def _worker_stopped(self, worker: asyncio.Task[None]) -> None:
        """The worker never stops by itself but on an error: the jobs it leaves are left
        to other workers, and the command says so."""
        failure = None if worker.cancelled() else worker.exception()
        reason = getattr(failure, "message", None) or str(failure or "no reason given")
        for item in self.followed:
            if item.job_id is not None and not item.ended:
                item.error = (
                    f"This command's worker stopped ({reason}); the job stays {item.status} "
                    f"for another worker: `reeldocs jobs show {item.job_id}` follows it."
                )
                item.ended = True
                self.display.ended(item)

    async def _finish(self, item: Followed, error: str | None) -> None:
        if item.status == "completed":
            try:
                item.out = await self._export(item)
            except ReeldocsError as failure:
                item.status = "failed"
                item.error = f"Its docs could not be written: {failure.detail}"
            except OSError as failure:
                item.status = "failed"
                item.error = (
                    f"Its docs could not be written into {self.request.out_dir} "
                    f"({failure.strerror or failure})."
                )
        elif item.status == "retried":
            item.error = "Its job was retried as another job: `reeldocs jobs list` shows it."
        else:
            item.error = error or f"Its job was {item.status}."
        item.ended = True
        self.display.ended(item)

    async def _export(self, item: Followed) -> Path:
        from reeldocs.docs.export import plan_tree, write_tree
        from reeldocs.videos.models import Video

        request = self.request

        async def plan(session: AsyncSession) -> ExportTree:
            video = await session.get(Video, item.video_id)
            if video is None:
                raise Invalid("The video was deleted while it was processed.")
            return await plan_tree(
                session,
                video,
                fmt=request.fmt.value,
                include_video=request.include_video,
                base_url=_base_url(self.settings),
            )

        tree = await _in_session(self.engine, plan)
        return await write_tree(tree, self.storage, request.out_dir)

    async def cancel_active(self) -> list[Followed]:
        """Cancel this command's jobs that have not ended, through the jobs service."""
        from reeldocs.jobs.service import cancel_job_as_operator

        cancelled = []
        for item in self.followed:
            if item.job_id is None or item.ended:
                continue
            try:
                job = await _in_session(
                    self.engine, partial(cancel_job_as_operator, job_id=item.job_id)
                )
            except ReeldocsError:
                continue  # it ended meanwhile
            item.status = job.status
            item.ended = True
            cancelled.append(item)
        return cancelled

    async def close(self) -> None:
        await self.engine.dispose()


async def _run(settings: Settings, urls: DatabaseUrls, request: Request, as_json: bool) -> int:
    from reeldocs.jobs.worker import run_worker_forever

    display = open_display(as_json=as_json, terminal=sys.stdout.isatty())
    run = Run(settings, urls, request, display)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, run.interrupted.set)
    worker: asyncio.Task[None] | None = None
    try:
        with display:
            await run.start_jobs()
            if any(item.job_id for item in run.followed) and not run.interrupted.is_set():
                worker = asyncio.create_task(run_worker_forever(settings, urls, concurrency=1))
                await run.follow(worker)
        if run.interrupted.is_set():
            cancelled = await run.cancel_active()
            names = ", ".join(item.label for item in cancelled)
            display.note(
                f"Interrupted: cancelled the processing of {names}."
                if cancelled
                else "Interrupted: no job was running, so none was cancelled."
            )
            return EXIT_INTERRUPTED
        return display.summary(run.followed)
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        if worker is not None:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        await run.close()

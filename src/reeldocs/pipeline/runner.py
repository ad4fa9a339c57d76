"""Runs one processing job: claims it, runs the steps in order, publishes or fails it."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from reeldocs.core.db import connection_lost
from reeldocs.core.errors import StorageUnavailable
from reeldocs.core.settings import Settings
from reeldocs.core.storage_async import AsyncStorage
from reeldocs.jobs import lifecycle, scratch
from reeldocs.jobs.progress import JobProgressReporter, JobStopped
from reeldocs.media.errors import MediaError
from reeldocs.pipeline import publish, retranslate, steps
from reeldocs.pipeline.context import RunContext, VideoInfo
from reeldocs.providers.base import Cancelled, ProviderError
from reeldocs.providers.registry import ProviderSet, language_name

_logger = logging.getLogger(__name__)

T = TypeVar("T")

TRANSIENT_RETRIES = 4
TRANSIENT_BACKOFF = 2.0  # seconds, doubled each time, capped below
TRANSIENT_BACKOFF_CAP = 30.0


@dataclass
class WorkerRuntime:
    settings: Settings
    engine: AsyncEngine
    storage: AsyncStorage
    providers: ProviderSet
    transient_backoff: float = TRANSIENT_BACKOFF
    # Set once the worker process is asked to stop: from then on a job that cannot be
    # handed back (the database is away) is given up after a while instead of waited for.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class RunningJob:
    """The job a task runs: its id, the engine job running it, and its lease once claimed."""

    job_id: uuid.UUID
    queue_job_id: int | None
    lease: uuid.UUID | None = None


@dataclass
class Claim:
    job: dict[str, Any]
    video: VideoInfo
    lease: uuid.UUID
    worker_vanished: bool = False


class StepFailed(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DatabaseLost(Exception):
    """The database connection went away while the job ran: no failure of the job's.

    The work done so far is in the run's checkpoints; whoever catches this hands the
    job back to the queue once the database answers again.
    """


async def claim(runtime: WorkerRuntime, running: RunningJob) -> Claim | None:
    """Mark the job processing under a new lease (see jobs.lifecycle.claim)."""
    async with runtime.engine.begin() as conn:
        claimed = await lifecycle.claim(
            conn,
            running.job_id,
            queue_job_id=running.queue_job_id,
            max_attempts=runtime.settings.job_max_attempts,
            providers=runtime.providers.names,
        )
    if claimed is None:
        return None
    video = claimed.video
    return Claim(
        job=claimed.job,
        video=VideoInfo(
            id=video["id"],
            org_id=video["org_id"],
            project_id=video["project_id"],
            storage_path=video["storage_path"],
            mime=video["mime"] or "video/mp4",
            duration=float(video["duration_seconds"] or 0.0),
        ),
        lease=claimed.lease,
        worker_vanished=claimed.worker_vanished,
    )


async def _retrying(
    runtime: WorkerRuntime,
    reporter: JobProgressReporter,
    what: str,
    action: Callable[[], Awaitable[T]],
) -> T:
    """`action`, tried again with growing waits while it fails in a way that may pass:
    a provider's timeout or overload, a storage server that does not answer."""
    delay = runtime.transient_backoff
    for attempt in range(TRANSIENT_RETRIES + 1):
        try:
            return await action()
        except (ProviderError, StorageUnavailable) as error:
            if not error.transient or attempt == TRANSIENT_RETRIES:
                raise
            reason = error.message if isinstance(error, ProviderError) else error.reason
            _logger.warning("%s: transient failure, retrying in %.1fs: %s", what, delay, reason)
            reporter.check()
            if isinstance(error, StorageUnavailable):
                # the job card says why it waits (progress never goes down: 0 keeps it)
                await reporter.update(
                    reporter.step or "uploading",
                    f"The file storage is not answering ({reason}); trying again in {delay:g} s",
                    0.0,
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, TRANSIENT_BACKOFF_CAP)
    raise AssertionError("unreachable")


class _Running(Protocol):
    job_id: uuid.UUID
    reporter: JobProgressReporter


async def _with_transient_retries(
    runtime: WorkerRuntime, ctx: _Running, step: Any, *args: Any
) -> None:
    label = f"job {ctx.job_id}: {step.__name__}{f' {args[0]}' if args else ''}"

    async def run() -> None:
        started = time.monotonic()
        await step(ctx, *args)
        _logger.info("%s took %.2f s", label, time.monotonic() - started)

    await _retrying(runtime, ctx.reporter, label, run)


async def run_steps(runtime: WorkerRuntime, ctx: RunContext) -> None:
    await _with_transient_retries(runtime, ctx, steps.prepare_media)
    await _with_transient_retries(runtime, ctx, steps.transcribe)
    await _with_transient_retries(runtime, ctx, steps.generate_docs)
    ctx.language_results[ctx.primary] = {"status": "completed"}
    done = await steps.languages_with_articles(ctx)
    for index, language in enumerate(ctx.translations):
        if language in done:
            ctx.language_results[language] = {"status": "completed"}
            continue
        try:
            await _with_transient_retries(
                runtime, ctx, steps.translate_language, language, index, len(ctx.translations)
            )
            ctx.language_results[language] = {"status": "completed"}
        except ProviderError as error:
            _logger.warning("translation into %s failed: %s", language, error.message)
            ctx.language_results[language] = {"status": "failed", "detail": error.message}
        await publish.save_language_results(ctx)
    subtitle_languages = [
        code
        for code in ctx.languages
        if ctx.language_results.get(code, {}).get("status") == "completed"
    ]
    for language in subtitle_languages:
        try:
            await _with_transient_retries(runtime, ctx, steps.make_subtitles, [language])
        except ProviderError as error:
            ctx.language_results[language] = {
                "status": "completed",
                "detail": f"Subtitles in {language_name(language)} could not be made: "
                + error.message,
            }


async def run_retranslation(
    runtime: WorkerRuntime, claimed: Claim, reporter: JobProgressReporter
) -> bool:
    """A `retranslate` job: the published docs' translations made again, then their
    subtitles; no video file is needed. False when the job was cancelled meanwhile."""
    job = claimed.job
    async with runtime.engine.connect() as conn:
        video = (
            await conn.execute(
                sa.text("SELECT docs_run_id, source_language FROM videos WHERE id = :v"),
                {"v": claimed.video.id},
            )
        ).one()
    if video.docs_run_id is None:
        raise StepFailed("This video has no documentation any more: process it again.")
    ctx = retranslate.RetranslateContext(
        job_id=job["id"],
        video=claimed.video,
        docs_run_id=video.docs_run_id,
        languages=list(job["languages"]),
        spoken=video.source_language or job["source_language"] or "en",
        engine=runtime.engine,
        providers=runtime.providers,
        reporter=reporter,
        language_results=dict(job["language_results"] or {}),
    )
    await retranslate.load_sources(ctx)
    done: list[str] = []
    for index, language in enumerate(ctx.translations):
        try:
            await _with_transient_retries(
                runtime, ctx, retranslate.translate_again, language, index
            )
            ctx.language_results[language] = {"status": "completed"}
            done.append(language)
        except ProviderError as error:
            _logger.warning("translation into %s failed: %s", language, error.message)
            ctx.language_results[language] = {"status": "failed", "detail": error.message}
        async with runtime.engine.begin() as conn:
            await lifecycle.save_language_results(
                conn, ctx.job_id, reporter.lease, ctx.language_results
            )
    if not done:
        failures = [ctx.language_results[code]["detail"] for code in ctx.translations]
        raise StepFailed(failures[0])
    for language in done:
        try:
            await _with_transient_retries(runtime, ctx, retranslate.subtitles_again, [language])
        except ProviderError as error:
            ctx.language_results[language] = {
                "status": "completed",
                "detail": f"Subtitles in {language_name(language)} could not be made: "
                + error.message,
            }
    return await retranslate.complete(ctx)


def _source_language(job: dict[str, Any], providers: ProviderSet) -> str | None:
    """What is spoken: as asked, or the only language the recogniser knows, or detect it."""
    if job["source_language"]:
        return str(job["source_language"])
    spoken = providers.spoken_languages()
    return spoken[0] if len(spoken) == 1 else None


GENERIC_FAILURE = (
    "An unexpected error stopped the processing. Retry the job; if it fails again, "
    "tell your administrator (the worker's log has the details)."
)


async def _fetch_source(
    runtime: WorkerRuntime, reporter: JobProgressReporter, claimed: Claim, work_dir: Path
) -> tuple[Path, bool]:
    """The video as a local file (a copy from object storage, or the stored file itself)
    and whether it is a copy. Downloaded in a thread: the loop keeps sending heartbeats."""
    await reporter.update("uploading", "Fetching the video from storage", 0.0)
    key = claimed.video.storage_path
    try:
        return await _retrying(
            runtime,
            reporter,
            f"job {reporter.job_id}: fetching the video",
            lambda: runtime.storage.fetch(key, work_dir, reporter.stop_event),
        )
    except FileNotFoundError:
        raise StepFailed(
            "The video file could not be found in storage; please upload it again."
        ) from None


def _storage_failure(error: StorageUnavailable) -> str:
    if not error.transient:
        return error.detail
    return (
        f"Processing stopped because the file storage could not be reached ({error.reason}), "
        f"even after {TRANSIENT_RETRIES} more tries. Check that the storage server is running "
        "and that the workers can reach it, then retry the job."
    )


async def run_job(runtime: WorkerRuntime, running: RunningJob) -> None:
    """Claim and run the job; raises DatabaseLost when the database went away meanwhile."""
    try:
        claimed = await claim(runtime, running)
    except Exception as error:
        if connection_lost(error):
            raise DatabaseLost() from error
        _logger.exception("job %s could not be claimed", running.job_id)
        async with runtime.engine.begin() as conn:
            await lifecycle.fail(conn, running.job_id, GENERIC_FAILURE, "uploading")
        return
    if claimed is None:
        return
    running.lease = claimed.lease
    job = claimed.job
    loop = asyncio.get_running_loop()
    reporter = JobProgressReporter(runtime.engine, running.job_id, claimed.lease, loop)
    scratch_dir = await _enter_scratch(runtime, running.job_id, claimed)
    work_dir = scratch_dir.path
    finished = False
    copy: Path | None = None
    try:
        if job["kind"] == "retranslate":
            finished = await run_retranslation(runtime, claimed, reporter)
            return
        video_path, copied = await _fetch_source(runtime, reporter, claimed, work_dir)
        copy = video_path if copied else None
        ctx = RunContext(
            job_id=running.job_id,
            run_id=job["run_id"],
            video=claimed.video,
            languages=list(job["languages"]),
            source_language=_source_language(job, runtime.providers),
            settings=runtime.settings,
            engine=runtime.engine,
            storage=runtime.storage,
            providers=runtime.providers,
            reporter=reporter,
            work_dir=work_dir,
            video_path=video_path,
            language_results={
                k: v
                for k, v in (job["language_results"] or {}).items()
                if v.get("status") == "completed"
            },
        )
        await run_steps(runtime, ctx)
        finished = await publish.complete(ctx)
    except (JobStopped, Cancelled):
        _logger.info("job %s stopped: it was cancelled or another worker has it", running.job_id)
    except asyncio.CancelledError:
        reporter.stop_event.set()
        raise
    except Exception as error:
        reporter.stop_event.set()
        if connection_lost(error):
            _logger.warning(
                "job %s lost its database connection in step %s: %s",
                running.job_id,
                reporter.step or job["step"],
                error,
            )
            raise DatabaseLost() from error
        finished = await _fail(runtime, running, reporter.step or job["step"], error)
    finally:
        if copy is not None:
            await runtime.storage.remove_copy(copy)
        scratch_dir.release()
        # Kept for a job handed back to the queue: its next claim here resumes with them.
        if finished or await _no_longer_active(runtime, running.job_id):
            await asyncio.to_thread(scratch.remove_if_unused, work_dir)


async def _enter_scratch(
    runtime: WorkerRuntime, job_id: uuid.UUID, claimed: Claim
) -> scratch.ScratchDir:
    """The run's scratch folder, held while the job runs (see jobs.scratch)."""
    data_dir = runtime.settings.data_dir
    run_id = claimed.job["run_id"]
    if claimed.worker_vanished:
        # A worker of this machine that died may have died halfway through writing a file
        # here (a screenshot, the video's download): start afresh. The run's checkpoints
        # are in the database and the storage, not here.
        path = scratch.scratch_path(data_dir, run_id)
        if path.exists() and await asyncio.to_thread(scratch.remove_if_unused, path):
            _logger.info("job %s: removed the scratch files its stopped worker left", job_id)
    return await asyncio.to_thread(scratch.enter, data_dir, run_id)


async def _fail(runtime: WorkerRuntime, running: RunningJob, step: str, error: Exception) -> bool:
    if isinstance(error, ProviderError | MediaError | StepFailed):
        message = error.message
    elif isinstance(error, StorageUnavailable):
        _logger.warning("job %s failed: storage unavailable (%s)", running.job_id, error.reason)
        message = _storage_failure(error)
    else:
        _logger.error("job %s failed unexpectedly in step %s", running.job_id, step, exc_info=error)
        message = GENERIC_FAILURE
    assert running.lease is not None
    try:
        await publish.fail_running(runtime.engine, running.job_id, running.lease, message, step)
    except Exception as failure:
        if connection_lost(failure):
            raise DatabaseLost() from failure
        raise
    return True


async def _no_longer_active(runtime: WorkerRuntime, job_id: uuid.UUID) -> bool:
    """Whether the job's work directory can go; kept when in doubt (the database is away)."""
    try:
        return not await publish.still_active(runtime.engine, job_id)
    except Exception as error:
        if connection_lost(error):
            return False
        raise

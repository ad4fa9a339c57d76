"""Runs one processing job: claims it, runs the steps in order, publishes or fails it."""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from reeldocs.core.errors import StorageUnavailable
from reeldocs.core.settings import Settings
from reeldocs.core.storage_async import AsyncStorage
from reeldocs.jobs.progress import JobProgressReporter, JobStopped
from reeldocs.media.errors import MediaError
from reeldocs.pipeline import publish, steps
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


@dataclass
class Claim:
    job: dict[str, Any]
    video: VideoInfo


class StepFailed(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


async def claim(runtime: WorkerRuntime, job_id: uuid.UUID) -> Claim | None:
    """Mark the job processing; count an attempt if an earlier worker died running it."""
    async with runtime.engine.begin() as conn:
        job = (
            (
                await conn.execute(
                    sa.text("SELECT * FROM processing_jobs WHERE id = :id FOR UPDATE"),
                    {"id": job_id},
                )
            )
            .mappings()
            .first()
        )
        if job is None or job["status"] not in ("pending", "processing") or job["cancel_requested"]:
            return None
        attempt = job["attempt"] + (1 if job["status"] == "processing" else 0)
        video = (
            (
                await conn.execute(
                    sa.text("SELECT * FROM videos WHERE id = :id"), {"id": job["video_id"]}
                )
            )
            .mappings()
            .one()
        )
        if attempt > runtime.settings.job_max_attempts:
            stops = attempt - 1
            await publish.fail(
                conn,
                job,
                video,
                f"Processing stopped: the worker stopped {stops} times while processing this "
                "video. It may be too large or damaged for this server; retry, or try a "
                "shorter or re-encoded copy.",
                job["step"],
            )
            return None
        await conn.execute(
            sa.text(
                """
                UPDATE processing_jobs
                SET status = 'processing', attempt = :attempt,
                    started_at = coalesce(started_at, now()), providers = :providers,
                    step_message = CASE WHEN :attempt > 1
                        THEN 'Resuming after the worker stopped' ELSE 'Starting' END
                WHERE id = :id
                """
            ).bindparams(sa.bindparam("providers", type_=sa.JSON)),
            {
                "id": job_id,
                "attempt": attempt,
                "providers": runtime.providers.names(list(job["languages"])),
            },
        )
        return Claim(
            job={**job, "attempt": attempt},
            video=VideoInfo(
                id=video["id"],
                org_id=video["org_id"],
                project_id=video["project_id"],
                storage_path=video["storage_path"],
                mime=video["mime"] or "video/mp4",
                duration=float(video["duration_seconds"] or 0.0),
            ),
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


async def _with_transient_retries(
    runtime: WorkerRuntime, ctx: RunContext, step: Any, *args: Any
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


def _source_language(job: dict[str, Any], providers: ProviderSet) -> str | None:
    """What is spoken: as asked, or the only language the recogniser knows, or detect it."""
    if job["source_language"]:
        return str(job["source_language"])
    spoken = providers.spoken_languages()
    return spoken[0] if len(spoken) == 1 else None


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


async def run_job(runtime: WorkerRuntime, job_id: uuid.UUID) -> None:
    claimed = await claim(runtime, job_id)
    if claimed is None:
        return
    job = claimed.job
    loop = asyncio.get_running_loop()
    reporter = JobProgressReporter(runtime.engine, job_id, loop)
    work_dir = runtime.settings.data_dir / "work" / str(job["run_id"])
    work_dir.mkdir(parents=True, exist_ok=True)
    ok = False
    copy: Path | None = None
    try:
        video_path, copied = await _fetch_source(runtime, reporter, claimed, work_dir)
        copy = video_path if copied else None
        ctx = RunContext(
            job_id=job_id,
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
        ok = await publish.complete(ctx)
    except (JobStopped, Cancelled):
        _logger.info("job %s stopped: it was cancelled", job_id)
    except asyncio.CancelledError:
        reporter.stop_event.set()
        raise
    except (ProviderError, MediaError, StepFailed) as error:
        await publish.fail_running(
            runtime.engine, job_id, error.message, reporter.step or job["step"]
        )
    except StorageUnavailable as error:
        _logger.warning("job %s failed: storage unavailable (%s)", job_id, error.reason)
        await publish.fail_running(
            runtime.engine, job_id, _storage_failure(error), reporter.step or job["step"]
        )
    except Exception:
        _logger.exception("job %s failed unexpectedly in step %s", job_id, reporter.step)
        await publish.fail_running(
            runtime.engine,
            job_id,
            "An unexpected error stopped the processing. Retry the job; if it fails again, "
            "tell your administrator (the worker's log has the details).",
            reporter.step or job["step"],
        )
    finally:
        if copy is not None:
            await runtime.storage.remove_copy(copy)
        if ok or not await publish.still_running(runtime.engine, job_id):
            shutil.rmtree(work_dir, ignore_errors=True)

"""Where a processing job is created and read, and where users' (and the operator's)
retries and cancels are checked before jobs.lifecycle carries them out.

A job is two rows that must never exist one without the other: our
`processing_jobs` row (what users see) and the engine's queued job. Both are
written in the request's one transaction, on one connection.
"""

from __future__ import annotations

import uuid
from typing import TypeVarTuple

import procrastinate
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from reeldocs.core.db import as_service, raw_driver_connection
from reeldocs.core.deps import Actor
from reeldocs.core.errors import Conflict, Invalid, NotFound
from reeldocs.core.languages import check_languages, named, names
from reeldocs.core.settings import Settings
from reeldocs.jobs import lifecycle
from reeldocs.jobs.lifecycle import ACTIVE_STATUSES, JobStatus
from reeldocs.jobs.models import ProcessingJob
from reeldocs.jobs.schemas import JobOut
from reeldocs.orgs.access import get_in_team
from reeldocs.orgs.models import Organization
from reeldocs.projects.models import Project
from reeldocs.providers.registry import (
    language_name,
    language_options,
    spoken_languages,
    spoken_languages_note,
)
from reeldocs.videos.models import Video

Columns = TypeVarTuple("Columns")


def validate_languages(settings: Settings, languages: list[str]) -> list[str]:
    options = language_options(settings)
    return check_languages(
        [o.code for o in options if o.primary], [o.code for o in options if o.translate], languages
    )


def validate_source_language(settings: Settings, source_language: str | None) -> str | None:
    if source_language is None or not source_language.strip():
        return None
    code = source_language.strip().lower()
    spoken = spoken_languages(settings)
    if code not in spoken:
        note = spoken_languages_note(settings)
        raise Invalid(
            f"The speech recognition configured now cannot recognise {language_name(code)} "
            f"({code}). Spoken languages available: {', '.join(spoken)}."
            + (f" {note}" if note else "")
        )
    return code


async def _defer(session: AsyncSession, queue: procrastinate.App, job: ProcessingJob) -> None:
    """Queue the engine's job on the request's own connection and transaction."""
    async with as_service(session):
        job.queue_job_id = await lifecycle.defer(await session.connection(), queue, job.id)
    await session.flush()


async def _active_job_id(session: AsyncSession, video_id: uuid.UUID) -> uuid.UUID | None:
    return (
        await session.execute(
            sa.select(ProcessingJob.id).where(
                ProcessingJob.video_id == video_id, ProcessingJob.status.in_(ACTIVE_STATUSES)
            )
        )
    ).scalar_one_or_none()


def _already_processing(active: uuid.UUID | None) -> Conflict:
    """The refusal of a second job for a video, naming the active one when it is known."""
    return Conflict(
        "This video is already being processed: wait for that job to finish or cancel it.",
        job_id=str(active) if active else None,
    )


async def _insert_active(session: AsyncSession, job: ProcessingJob) -> None:
    try:
        async with session.begin_nested():
            session.add(job)
    except IntegrityError:
        # The partial unique index: another request won the race for this video.
        raise _already_processing(await _active_job_id(session, job.video_id)) from None


async def create_job(
    session: AsyncSession,
    actor: Actor,
    queue: procrastinate.App,
    settings: Settings,
    video_id: uuid.UUID,
    languages: list[str],
    source_language: str | None = None,
) -> ProcessingJob:
    # Read, check, then lock: FOR UPDATE only sees rows the caller may update, so a
    # viewer locking first would be told "not found" instead of "not allowed".
    video = await get_in_team(session, actor, Video, video_id, "video", write=True)
    await session.refresh(video, with_for_update=True)
    return await _create(session, queue, settings, video, languages, source_language)


async def create_job_as_operator(
    session: AsyncSession,
    queue: procrastinate.App,
    settings: Settings,
    video_id: uuid.UUID,
    languages: list[str],
    source_language: str | None = None,
) -> ProcessingJob:
    """The CLI's way in: runs as the service role, whatever the video's team."""
    video = await session.get(Video, video_id, with_for_update=True)
    if video is None:
        raise NotFound(f"There is no video with the id {video_id}.")
    return await _create(session, queue, settings, video, languages, source_language)


async def _create(
    session: AsyncSession,
    queue: procrastinate.App,
    settings: Settings,
    video: Video,
    languages: list[str],
    source_language: str | None,
) -> ProcessingJob:
    """A job for a video the caller may change, locked."""
    languages = validate_languages(settings, languages)
    source = validate_source_language(settings, source_language)
    if video.status == "uploading":
        raise Conflict("This video is still uploading: process it once the upload has finished.")
    active = await _active_job_id(session, video.id)
    if active is not None:
        raise _already_processing(active)
    job = ProcessingJob(
        org_id=video.org_id,
        project_id=video.project_id,
        video_id=video.id,
        languages=languages,
        source_language=source,
        run_id=uuid.uuid4(),
        video_status_before=video.status,
        language_results={code: {"status": "pending"} for code in languages},
    )
    await _insert_active(session, job)
    video.status = "processing"
    await _defer(session, queue, job)
    return job


async def create_retranslate_job(
    session: AsyncSession,
    actor: Actor,
    queue: procrastinate.App,
    settings: Settings,
    video_id: uuid.UUID,
    languages: list[str] | None,
) -> ProcessingJob:
    """A job that translates the video's docs again from their current primary text,
    without processing the video: `languages` (default: those with stale articles)."""
    from reeldocs.docs import service as docs

    video = await get_in_team(session, actor, Video, video_id, "video", write=True)
    await session.refresh(video, with_for_update=True)
    if video.docs_run_id is None:
        raise Conflict("This video has no documentation yet: process it first.")
    primary = await docs.primary_language(session, video)
    translated = await docs.translation_languages(session, video)
    if primary is None or not translated:
        raise Conflict(
            "This video's docs have no translations to translate again: process the video "
            "with the languages you want."
        )
    if languages is None:
        targets = await docs.stale_languages(session, video)
        if not targets:
            raise Conflict(
                "No translation of this video is stale. Name the languages to translate "
                'again ("languages") to translate them anyway.'
            )
    else:
        targets = validate_languages(settings, [primary, *languages])[1:]
        if not targets:
            raise Invalid(f"Name a language to translate into, other than {named(primary)}.")
        missing = [code for code in targets if code not in translated]
        if missing:
            raise Invalid(
                f"This video's docs are not translated into {names(missing)}, so there is "
                f"nothing to translate again: they are in {names([primary, *translated])}. "
                "Process the video again with the languages you want."
            )
    active = await _active_job_id(session, video.id)
    if active is not None:
        raise _already_processing(active)
    job = ProcessingJob(
        org_id=video.org_id,
        project_id=video.project_id,
        video_id=video.id,
        kind="retranslate",
        languages=[primary, *targets],
        source_language=video.source_language,
        run_id=uuid.uuid4(),
        video_status_before=video.status,
        step=f"translating_{targets[0]}",
        language_results={
            primary: {"status": "completed"},
            **{code: {"status": "pending"} for code in targets},
        },
    )
    await _insert_active(session, job)
    video.status = "processing"
    await _defer(session, queue, job)
    return job


async def retry_job(
    session: AsyncSession, actor: Actor, queue: procrastinate.App, job_id: uuid.UUID
) -> ProcessingJob:
    return await _retry(session, queue, await _get_for_update(session, actor, job_id))


async def retry_job_as_operator(
    session: AsyncSession, queue: procrastinate.App, job_id: uuid.UUID
) -> ProcessingJob:
    """The CLI's way in: runs as the service role, whatever the job's team."""
    return await _retry(session, queue, await _get_any_for_update(session, job_id))


async def _retry(
    session: AsyncSession, queue: procrastinate.App, old: ProcessingJob
) -> ProcessingJob:
    """Retry a job the caller may change, locked."""
    if old.status not in (JobStatus.FAILED, JobStatus.CANCELLED):
        raise Conflict(f"Only failed or cancelled jobs can be retried; this one is {old.status}.")
    video = (
        await session.execute(sa.select(Video).where(Video.id == old.video_id).with_for_update())
    ).scalar_one()
    try:
        async with session.begin_nested():
            new_id = await lifecycle.retry(session, queue, old.id)
    except IntegrityError:
        # The partial unique index: another request started a job for this video.
        raise _already_processing(await _active_job_id(session, old.video_id)) from None
    video.status = "processing"
    await session.refresh(old)
    return (
        await session.execute(sa.select(ProcessingJob).where(ProcessingJob.id == new_id))
    ).scalar_one()


async def cancel_job(
    session: AsyncSession, actor: Actor, queue: procrastinate.App, job_id: uuid.UUID
) -> ProcessingJob:
    return await _cancel(session, await _get_for_update(session, actor, job_id))


async def cancel_job_as_operator(session: AsyncSession, job_id: uuid.UUID) -> ProcessingJob:
    """The CLI's way in: runs as the service role, whatever the job's team."""
    return await _cancel(session, await _get_any_for_update(session, job_id))


async def _cancel(session: AsyncSession, job: ProcessingJob) -> ProcessingJob:
    """Cancel a job the caller may change, locked."""
    if job.status not in ACTIVE_STATUSES:
        raise Conflict(
            f"Only pending or processing jobs can be cancelled; this one is {job.status}."
        )
    await lifecycle.cancel(session, job.id, "Cancelled")
    await session.refresh(job)
    return job


async def cancel_for_deleted_video(session: AsyncSession, video_id: uuid.UUID) -> None:
    """Deleting a video (or its project) stops its job first."""
    active = (
        await session.execute(
            sa.select(ProcessingJob.id).where(
                ProcessingJob.video_id == video_id, ProcessingJob.status.in_(ACTIVE_STATUSES)
            )
        )
    ).scalars()
    for job_id in list(active):
        await lifecycle.cancel(session, job_id, "Cancelled: the video was deleted")


async def _get_for_update(session: AsyncSession, actor: Actor, job_id: uuid.UUID) -> ProcessingJob:
    """The job, locked, once the caller is known to be a writer of its team."""
    job = await get_in_team(session, actor, ProcessingJob, job_id, "job", write=True)
    await session.refresh(job, with_for_update=True)
    return job


def _no_such_job(job_id: uuid.UUID) -> NotFound:
    return NotFound(f"There is no job with the id {job_id}: `reeldocs jobs list` shows them.")


async def _get_any_for_update(session: AsyncSession, job_id: uuid.UUID) -> ProcessingJob:
    """The job, locked, for the service role (the operator), who may change any job."""
    job = await session.get(ProcessingJob, job_id, with_for_update=True)
    if job is None:
        raise _no_such_job(job_id)
    return job


def _job_out(job: ProcessingJob, video_title: str) -> JobOut:
    return JobOut(
        id=job.id,
        project_id=job.project_id,
        video_id=job.video_id,
        video_title=video_title,
        status=job.status,
        step=job.step,
        step_message=job.step_message,
        progress=float(job.progress),
        error_message=job.error_message,
        failed_step=job.failed_step,
        languages=list(job.languages),
        language_results=dict(job.language_results or {}),
        attempt=job.attempt,
        retry_of=job.retry_of,
        providers=dict(job.providers or {}),
        started_at=job.started_at,
        completed_at=job.completed_at,
        created_at=job.created_at,
        updated_at=job.updated_at,
        kind=job.kind,
    )


async def get_job(session: AsyncSession, actor: Actor, job_id: uuid.UUID) -> JobOut:
    """The job, when the caller's team owns it (row-level security hides the others)."""
    from reeldocs.jobs.reading import read_job

    return (await read_job(await raw_driver_connection(session), job_id)).job


async def list_project_jobs(
    session: AsyncSession,
    actor: Actor,
    project_id: uuid.UUID,
    state: str = "recent",
    limit: int = 5,
) -> list[JobOut]:
    from reeldocs.projects import service as projects

    await projects.get(session, actor, project_id)
    query = (
        sa.select(ProcessingJob, Video.title)
        .join(Video, Video.id == ProcessingJob.video_id)
        .where(ProcessingJob.project_id == project_id)
    )
    return [
        _job_out(job, title)
        for job, title in await session.execute(_newest_first(query, state, limit))
    ]


def _newest_first(query: sa.Select[*Columns], state: str, limit: int) -> sa.Select[*Columns]:
    """The newest `limit` jobs: active ones, or all but those a retry took over."""
    if state == "active":
        query = query.where(ProcessingJob.status.in_(ACTIVE_STATUSES))
    else:
        query = query.where(ProcessingJob.status != "retried")
    return query.order_by(ProcessingJob.created_at.desc(), ProcessingJob.id.desc()).limit(limit)


async def get_job_as_operator(session: AsyncSession, job_id: uuid.UUID) -> JobOut:
    """The CLI's way in: the job as the API shows it, read as the service role."""
    row = (
        await session.execute(
            sa.select(ProcessingJob, Video.title)
            .join(Video, Video.id == ProcessingJob.video_id)
            .where(ProcessingJob.id == job_id)
        )
    ).first()
    if row is None:
        raise _no_such_job(job_id)
    return _job_out(row[0], row[1])


async def list_recent_jobs_as_operator(
    session: AsyncSession, project_id: uuid.UUID | None, limit: int
) -> list[tuple[JobOut, str]]:
    """The CLI's way in: the newest jobs of one project or of every team, read as the
    service role, each with its project's `ORG_SLUG/PROJECT_SLUG`."""
    query = (
        sa.select(ProcessingJob, Video.title, Organization.slug, Project.slug)
        .join(Video, Video.id == ProcessingJob.video_id)
        .join(Project, Project.id == ProcessingJob.project_id)
        .join(Organization, Organization.id == ProcessingJob.org_id)
    )
    if project_id is not None:
        query = query.where(ProcessingJob.project_id == project_id)
    rows = await session.execute(_newest_first(query, "recent", limit))
    return [
        (_job_out(job, title), f"{org_slug}/{project_slug}")
        for job, title, org_slug, project_slug in rows
    ]


async def video_job_history(
    session: AsyncSession, actor: Actor, video_id: uuid.UUID
) -> list[JobOut]:
    rows = await session.execute(
        sa.select(ProcessingJob, Video.title)
        .join(Video, Video.id == ProcessingJob.video_id)
        .where(ProcessingJob.video_id == video_id)
        .order_by(ProcessingJob.created_at.desc())
    )
    return [_job_out(job, title) for job, title in rows]

"""The upload page, one job's progress card and page, and the Retry and Cancel actions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from reeldocs.core.db import DriverConnection, raw_driver_connection
from reeldocs.core.deps import Actor, AppSettings, CurrentActor, DbSession, user_transaction
from reeldocs.core.errors import NotFound
from reeldocs.jobs import reading
from reeldocs.jobs import service as jobs
from reeldocs.jobs.reading import JobVersion
from reeldocs.jobs.schemas import JobOut
from reeldocs.orgs.access import require_writer
from reeldocs.pages.job_views import is_active, language_choices, spoken_languages
from reeldocs.pages.project_pages import (
    FAST_POLL_DONE,
    JOB_HELPERS,
    project_and_role,
    render_jobs_card,
)
from reeldocs.pages.rendering import PACKAGE_DIR, csrf_for, is_htmx, page_headers, render
from reeldocs.projects.models import Project
from reeldocs.webhooks.reading import JobDelivery, job_deliveries

router = APIRouter(include_in_schema=False)
# The card every open job page polls, mounted ahead of every other route (see app.py).
card_router = APIRouter(include_in_schema=False)

NOT_IN_PROJECT = "This job does not exist in this project."
# What the job card looks like follows these files: a new version of them is a new card.
CARD_VERSION = reading.digest(
    *(
        (PACKAGE_DIR / name).read_text()
        for name in (
            "templates/partials/job_card.html",
            "templates/partials/progress.html",
            "templates/partials/job_deliveries.html",
            "pages/job_views.py",
        )
    )
)


@router.get("/projects/{project_id}/upload")
async def upload_page(
    project_id: uuid.UUID,
    request: Request,
    actor: CurrentActor,
    db: DbSession,
    settings: AppSettings,
) -> Response:
    project, _ = await project_and_role(db, actor, project_id)
    await require_writer(db, actor, project.org_id, "project")
    return render(
        request,
        "pages/upload.html",
        {
            "project": project,
            "language_options": await language_choices(settings),
            "spoken_languages": await spoken_languages(settings),
            "max_upload_bytes": settings.max_upload_bytes,
        },
    )


@dataclass(frozen=True)
class ProjectRef:
    """The project as the job card needs it: its id, for links."""

    id: uuid.UUID


async def _project_job(
    db: AsyncSession, actor: Actor, project_id: uuid.UUID, job_id: uuid.UUID
) -> tuple[Project, str, JobOut]:
    project, role = await project_and_role(db, actor, project_id)
    job = await jobs.get_job(db, actor, job_id)
    if job.project_id != project.id:
        raise NotFound(NOT_IN_PROJECT)
    return project, role, job


def _job_context(
    project: Project | ProjectRef,
    role: str,
    job: JobOut,
    deliveries: dict[uuid.UUID, list[JobDelivery]] | None = None,
) -> dict[str, object]:
    from reeldocs.orgs.models import WRITER_ROLES

    return {
        "project": project,
        "job": job,
        "can_write": role in WRITER_ROLES,
        "deliveries": deliveries or {},
        **JOB_HELPERS,
    }


async def _deliveries(conn: DriverConnection, job: JobOut) -> dict[uuid.UUID, list[JobDelivery]]:
    """The webhook deliveries of a finished job (an active one has none yet)."""
    return {} if is_active(job) else await job_deliveries(conn, [job.id])


@router.get("/projects/{project_id}/jobs/{job_id}")
async def job_page(
    project_id: uuid.UUID, job_id: uuid.UUID, request: Request, actor: CurrentActor, db: DbSession
) -> Response:
    project, role, job = await _project_job(db, actor, project_id, job_id)
    deliveries = await _deliveries(await raw_driver_connection(db), job)
    return render(request, "pages/job.html", _job_context(project, role, job, deliveries))


def _render_job_card(
    request: Request,
    project: Project | ProjectRef,
    role: str,
    job: JobOut,
    headers: dict[str, str] | None,
    deliveries: dict[uuid.UUID, list[JobDelivery]] | None = None,
) -> Response:
    return render(
        request,
        "partials/job_card.html",
        _job_context(project, role, job, deliveries),
        status=200 if is_active(job) else FAST_POLL_DONE,
        fragment=True,
        headers=headers,
    )


def _card_etag(request: Request, version: JobVersion) -> str:
    # Beyond the job, the card shows what the caller may do (their role) and carries their
    # session's CSRF token in its forms; and it changes with the code that draws it.
    return version.etag(version.role, reading.digest(csrf_for(request) or ""), CARD_VERSION)


@card_router.get("/projects/{project_id}/jobs/{job_id}/card")
async def job_card(project_id: uuid.UUID, job_id: uuid.UUID, request: Request) -> Response:
    """The job page's progress card, polled every 2 s while the job is active; a poll that
    holds the current card is answered 304 from the job's version alone."""
    async with user_transaction(request) as db:
        if_none_match = request.headers.get("if-none-match")
        if if_none_match:
            version = await reading.job_version(db.conn, job_id)
            if version.project_id != project_id:
                raise NotFound(NOT_IN_PROJECT)
            etag = _card_etag(request, version)
            if reading.matches(if_none_match, etag):
                return page_headers(Response(status_code=304, headers=_card_cache_headers(etag)))
        read = await reading.read_job(db.conn, job_id)
        if read.version.project_id != project_id:
            raise NotFound(NOT_IN_PROJECT)
        deliveries = await _deliveries(db.conn, read.job)
    return _render_job_card(
        request,
        ProjectRef(project_id),
        read.version.role,
        read.job,
        _card_cache_headers(_card_etag(request, read.version)),
        deliveries,
    )


def _card_cache_headers(etag: str) -> dict[str, str]:
    # Kept by the browser only to be revalidated: its next poll sends If-None-Match.
    return {"ETag": etag, "Cache-Control": "private, no-cache"}


async def _after_action(
    request: Request,
    db: AsyncSession,
    actor: Actor,
    job: JobOut,
    card: str,
) -> Response:
    """Answer a Retry or Cancel with the card it was pressed in (htmx), or a redirect."""
    project, role, job = await _project_job(db, actor, job.project_id, job.id)
    job_url = f"/projects/{project.id}/jobs/{job.id}"
    if not is_htmx(request):
        return RedirectResponse(
            job_url if card == "job" else f"/projects/{project.id}", status_code=303
        )
    if card == "job":
        deliveries = await _deliveries(await raw_driver_connection(db), job)
        return _render_job_card(
            request, project, role, job, {"HX-Replace-Url": job_url}, deliveries
        )
    return await render_jobs_card(request, db, actor, project, role, seen_videos=None)


async def require_job_writer(db: AsyncSession, actor: Actor, job_id: uuid.UUID) -> None:
    """404 for other teams' jobs, 403 for viewers, before the service locks the row.

    The service's row lock is filtered by the update policy, which would hide the job
    from a viewer and answer 404 where "you may not" is the truth.
    """
    job = await jobs.get_job(db, actor, job_id)
    project, _ = await project_and_role(db, actor, job.project_id)
    await require_writer(db, actor, project.org_id, "job")


@router.post("/jobs/{job_id}/retry")
async def retry_job(
    job_id: uuid.UUID,
    request: Request,
    actor: CurrentActor,
    db: DbSession,
    card: Annotated[str, Form()] = "project",
) -> Response:
    await require_job_writer(db, actor, job_id)
    new = await jobs.retry_job(db, actor, request.app.state.queue, job_id)
    return await _after_action(request, db, actor, await jobs.get_job(db, actor, new.id), card)


@router.post("/jobs/{job_id}/cancel")
async def cancel_job(
    job_id: uuid.UUID,
    request: Request,
    actor: CurrentActor,
    db: DbSession,
    card: Annotated[str, Form()] = "project",
) -> Response:
    await require_job_writer(db, actor, job_id)
    await jobs.cancel_job(db, actor, request.app.state.queue, job_id)
    return await _after_action(request, db, actor, await jobs.get_job(db, actor, job_id), card)

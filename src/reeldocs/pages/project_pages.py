"""The dashboard and a project's overview, with its "Processing Jobs" card.

The card polls every 2 s while a job of the project is active and answers 286 (htmx
stops polling) once none is. While idle it asks a cheap endpoint every 10 s, which
answers 204 (nothing to swap) until a job starts or changes, from any tab or client.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from reeldocs.core.db import raw_driver_connection
from reeldocs.core.deps import Actor, AppSettings, CurrentActor, DbSession
from reeldocs.core.errors import NotFound, ReeldocsError
from reeldocs.jobs import service as jobs
from reeldocs.orgs import service as orgs
from reeldocs.orgs.access import require_member, require_writer
from reeldocs.orgs.models import WRITER_ROLES
from reeldocs.pages import queries
from reeldocs.pages.job_views import (
    is_active,
    job_steps,
    language_choices,
    language_failures,
    progress_announcement,
    status_label,
    step_label,
    videos_fingerprint,
)
from reeldocs.pages.rendering import is_htmx, render
from reeldocs.projects import service as projects
from reeldocs.projects.models import Project
from reeldocs.publishing.addresses import public_url
from reeldocs.videos import service as videos_service
from reeldocs.webhooks.reading import job_deliveries

router = APIRouter(include_in_schema=False)

FAST_POLL_DONE = 286  # htmx stops an `every` trigger when the answer has this status
RECENT_JOBS_SHOWN = 5
ACTIVE_JOBS_SHOWN = 20
PROCESSABLE_STATUSES = ("uploaded", "ready", "failed")

# Helpers the job templates call.
JOB_HELPERS: dict[str, Any] = {
    "job_steps": job_steps,
    "language_failures": language_failures,
    "progress_announcement": progress_announcement,
    "status_label": status_label,
    "step_label": step_label,
    "is_active": is_active,
}


async def writable_orgs(db: AsyncSession, actor: Actor) -> list[Any]:
    return [org for org in await orgs.list_orgs(db, actor) if org.role in WRITER_ROLES]


async def _dashboard(
    request: Request, db: AsyncSession, actor: Actor, *, status: int = 200, error: str | None = None
) -> Response:
    return render(
        request,
        "pages/dashboard.html",
        {
            "projects": await queries.dashboard_projects(db, actor.user_id),
            "orgs": await writable_orgs(db, actor),
            "error": error,
        },
        status=status,
    )


@router.get("/")
async def dashboard(request: Request, actor: CurrentActor, db: DbSession) -> Response:
    return await _dashboard(request, db, actor)


@router.post("/projects")
async def create_project(
    request: Request,
    actor: CurrentActor,
    db: DbSession,
    name: Annotated[str, Form(max_length=200)] = "",
    org_id: Annotated[str, Form()] = "",
) -> Response:
    try:
        project = await projects.create(db, actor, name, uuid.UUID(org_id) if org_id else None)
    except ReeldocsError as error:
        return await _dashboard(request, db, actor, status=error.status, error=error.detail)
    except ValueError:
        return await _dashboard(request, db, actor, status=422, error="Pick one of your teams.")
    return RedirectResponse(f"/projects/{project.id}", status_code=303)


async def site_url(request: Request, db: AsyncSession, project: Project) -> str:
    """The address of the project's docs site, as the API's `public_url` gives it."""
    base = request.app.state.settings.base_url(str(request.base_url))
    return public_url(base, await queries.org_slug(db, project.org_id), project.slug)


async def project_and_role(
    db: AsyncSession, actor: Actor, project_id: uuid.UUID
) -> tuple[Project, str]:
    project = await projects.get(db, actor, project_id)
    role = await require_member(db, actor, project.org_id, "project")
    return project, role


async def jobs_card_context(
    db: AsyncSession, actor: Actor, project: Project, role: str
) -> dict[str, Any]:
    active = await jobs.list_project_jobs(db, actor, project.id, "active", ACTIVE_JOBS_SHOWN)
    recent = [
        job
        for job in await jobs.list_project_jobs(
            db, actor, project.id, "recent", RECENT_JOBS_SHOWN + len(active)
        )
        if not is_active(job)
    ][:RECENT_JOBS_SHOWN]
    stamp = await queries.project_jobs_stamp(db, project.id)
    videos = await videos_service.list_for_project(db, actor, project.id)
    deliveries = await job_deliveries(await raw_driver_connection(db), (job.id for job in recent))
    return {
        "project": project,
        "can_write": role in WRITER_ROLES,
        "active_jobs": active,
        "recent_jobs": recent,
        "deliveries": deliveries,
        "stamp": stamp.latest,
        "videos": videos,
        # a publish elsewhere changes the list too
        "videos_print": videos_fingerprint((v.id, f"{v.status}:{v.published}") for v in videos),
        **JOB_HELPERS,
    }


async def render_jobs_card(
    request: Request,
    db: AsyncSession,
    actor: Actor,
    project: Project,
    role: str,
    *,
    seen_videos: str | None,
    status: int | None = None,
) -> Response:
    """The card alone; the videos list rides along (out of band) when a video's status moved."""
    context = await jobs_card_context(db, actor, project, role)
    context["videos_changed"] = seen_videos != context["videos_print"]
    context["language_options"] = await language_choices(request.app.state.settings)
    if status is None:
        status = 200 if context["active_jobs"] else FAST_POLL_DONE
    return render(
        request, "partials/jobs_card_response.html", context, status=status, fragment=True
    )


@router.get("/projects/{project_id}")
async def project_overview(
    project_id: uuid.UUID, request: Request, actor: CurrentActor, db: DbSession
) -> Response:
    project, role = await project_and_role(db, actor, project_id)
    context = await jobs_card_context(db, actor, project, role)
    context["org_name"] = await queries.org_name(db, project.org_id)
    context["language_options"] = await language_choices(request.app.state.settings)
    context["site_url"] = await site_url(request, db, project)
    return render(request, "pages/project.html", context)


@router.get("/projects/{project_id}/jobs/card")
async def project_jobs_card(
    project_id: uuid.UUID,
    request: Request,
    actor: CurrentActor,
    db: DbSession,
    videos: str | None = None,
) -> Response:
    project, role = await project_and_role(db, actor, project_id)
    return await render_jobs_card(request, db, actor, project, role, seen_videos=videos)


@router.get("/projects/{project_id}/jobs/watch")
async def project_jobs_watch(
    project_id: uuid.UUID,
    request: Request,
    actor: CurrentActor,
    db: DbSession,
    since: str = "",
    videos: str | None = None,
) -> Response:
    """The idle card's cheap check: 204 while nothing changed, else the whole card."""
    project, role = await project_and_role(db, actor, project_id)
    stamp = await queries.project_jobs_stamp(db, project.id)
    if stamp.active == 0 and stamp.latest == since:
        return Response(status_code=204, headers={"Cache-Control": "no-store"})
    return await render_jobs_card(request, db, actor, project, role, seen_videos=videos, status=200)


def _chosen_languages(form_languages: list[str], order: str) -> list[str]:
    """The order the person ticked them in (kept by the page's script), else the form's."""
    ordered = [code.strip() for code in order.split(",") if code.strip()]
    return ordered or [code for code in form_languages if code.strip()]


@router.post("/projects/{project_id}/videos/{video_id}/process")
async def process_video(
    project_id: uuid.UUID,
    video_id: uuid.UUID,
    request: Request,
    actor: CurrentActor,
    db: DbSession,
    settings: AppSettings,
    languages: Annotated[list[str] | None, Form()] = None,
    language_order: Annotated[str, Form()] = "",
    source_language: Annotated[str, Form()] = "",
) -> Response:
    project, role = await project_and_role(db, actor, project_id)
    # Checked here too: the service's row lock would hide the video from a viewer (404).
    await require_writer(db, actor, project.org_id, "project")
    job = await jobs.create_job(
        db,
        actor,
        request.app.state.queue,
        settings,
        video_id,
        _chosen_languages(languages or [], language_order),
        source_language or None,
    )
    if job.project_id != project.id:
        raise NotFound("This video does not exist in this project.")
    if is_htmx(request):
        return await render_jobs_card(request, db, actor, project, role, seen_videos=None)
    # without the page's script (or from the video's own page): on to the job's progress
    return RedirectResponse(f"/projects/{project.id}/jobs/{job.id}", status_code=303)

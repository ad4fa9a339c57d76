"""A project's docs site from its page: open it to anyone or close it, and publish each
video on it. Each action answers the part of the page it changed (htmx), or sends a
browser without the page's script back to the project's page."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from reeldocs.core.deps import CurrentActor, DbSession
from reeldocs.core.errors import NotFound
from reeldocs.orgs.models import WRITER_ROLES
from reeldocs.pages.job_views import language_choices
from reeldocs.pages.project_pages import JOB_HELPERS, project_and_role, site_url
from reeldocs.pages.rendering import is_htmx, render
from reeldocs.projects import service as projects
from reeldocs.projects.models import Project
from reeldocs.videos import service as videos

router = APIRouter(include_in_schema=False)


async def site_card_context(
    request: Request, db: AsyncSession, project: Project, role: str
) -> dict[str, Any]:
    return {
        "project": project,
        "can_write": role in WRITER_ROLES,
        "site_url": await site_url(request, db, project),
    }


def _back(project: Project) -> Response:
    return RedirectResponse(f"/projects/{project.id}", status_code=303)


@router.post("/projects/{project_id}/site")
async def set_public_docs(
    project_id: uuid.UUID,
    request: Request,
    actor: CurrentActor,
    db: DbSession,
    public_docs: Annotated[bool, Form()],
) -> Response:
    project = await projects.update(db, actor, project_id, public_docs=public_docs)
    if not is_htmx(request):
        return _back(project)
    _, role = await project_and_role(db, actor, project.id)
    context = await site_card_context(request, db, project, role)
    return render(request, "partials/site_card.html", context, fragment=True)


@router.post("/projects/{project_id}/videos/{video_id}/published")
async def set_published(
    project_id: uuid.UUID,
    video_id: uuid.UUID,
    request: Request,
    actor: CurrentActor,
    db: DbSession,
    published: Annotated[bool, Form()],
) -> Response:
    project, role = await project_and_role(db, actor, project_id)
    video = await videos.get(db, actor, video_id)
    if video.project_id != project.id:
        raise NotFound("This video does not exist in this project.")
    await videos.update(db, actor, video_id, published=published)
    if not is_htmx(request):
        return _back(project)
    context = {
        "project": project,
        "can_write": role in WRITER_ROLES,
        "videos": await videos.list_for_project(db, actor, project.id),
        "language_options": await language_choices(request.app.state.settings),
        "oob": False,
        **JOB_HELPERS,
    }
    return render(request, "partials/videos_list.html", context, fragment=True)

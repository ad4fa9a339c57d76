from __future__ import annotations

import uuid

from fastapi import APIRouter, BackgroundTasks, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from reeldocs.core.deps import AppSettings, AppStorage, CurrentActor, DbSession
from reeldocs.core.openapi import errors
from reeldocs.core.settings import Settings
from reeldocs.projects import service
from reeldocs.projects.models import Project
from reeldocs.projects.schemas import ProjectIn, ProjectOut, ProjectUpdate

router = APIRouter(prefix="/api/projects", tags=["projects"])


async def _out(
    db: AsyncSession, projects: list[Project], request: Request, settings: Settings
) -> list[ProjectOut]:
    return await service.describe(db, projects, settings.base_url(str(request.base_url)))


# 404: the team named by org_id, or the caller's own when none is named, is not theirs.
@router.post("", status_code=201, response_model=ProjectOut, responses=errors(404))
async def create_project(
    body: ProjectIn, request: Request, actor: CurrentActor, db: DbSession, settings: AppSettings
) -> ProjectOut:
    project = await service.create(db, actor, body.name, body.org_id)
    return (await _out(db, [project], request, settings))[0]


@router.get("", response_model=list[ProjectOut])
async def list_projects(
    request: Request, actor: CurrentActor, db: DbSession, settings: AppSettings
) -> list[ProjectOut]:
    return await _out(db, await service.list_for(db, actor), request, settings)


@router.patch("/{project_id}", response_model=ProjectOut, responses=errors(403))
async def update_project(
    project_id: uuid.UUID,
    body: ProjectUpdate,
    request: Request,
    actor: CurrentActor,
    db: DbSession,
    settings: AppSettings,
) -> ProjectOut:
    """Rename the project, or make its docs site public (`public_docs`): owners and editors."""
    project = await service.update(
        db, actor, project_id, name=body.name, public_docs=body.public_docs
    )
    return (await _out(db, [project], request, settings))[0]


@router.delete("/{project_id}", status_code=204)
async def delete_project(
    project_id: uuid.UUID,
    actor: CurrentActor,
    db: DbSession,
    storage: AppStorage,
    background: BackgroundTasks,
) -> Response:
    prefixes = await service.delete(db, actor, project_id)
    # Files go once the rows are gone for good (background tasks run after the commit).
    for prefix in prefixes:
        background.add_task(storage.discard_prefix, prefix)
    return Response(status_code=204, background=background)

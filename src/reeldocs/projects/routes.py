from __future__ import annotations

import uuid

from fastapi import APIRouter, BackgroundTasks, Response

from reeldocs.core.deps import AppStorage, CurrentActor, DbSession
from reeldocs.core.openapi import errors
from reeldocs.projects import service
from reeldocs.projects.schemas import ProjectIn, ProjectOut, ProjectRename

router = APIRouter(prefix="/api/projects", tags=["projects"])


def _out(project: object) -> ProjectOut:
    return ProjectOut.model_validate(project, from_attributes=True)


# 404: the team named by org_id, or the caller's own when none is named, is not theirs.
@router.post("", status_code=201, response_model=ProjectOut, responses=errors(404))
async def create_project(body: ProjectIn, actor: CurrentActor, db: DbSession) -> ProjectOut:
    return _out(await service.create(db, actor, body.name, body.org_id))


@router.get("", response_model=list[ProjectOut])
async def list_projects(actor: CurrentActor, db: DbSession) -> list[ProjectOut]:
    return [_out(p) for p in await service.list_for(db, actor)]


@router.patch("/{project_id}", response_model=ProjectOut)
async def rename_project(
    project_id: uuid.UUID, body: ProjectRename, actor: CurrentActor, db: DbSession
) -> ProjectOut:
    return _out(await service.rename(db, actor, project_id, body.name))


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

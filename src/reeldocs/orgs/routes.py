from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from reeldocs.core.deps import CurrentActor, DbSession
from reeldocs.orgs import service
from reeldocs.orgs.schemas import MemberIn, MemberOut, OrgOut, RoleIn

router = APIRouter(prefix="/api/orgs", tags=["orgs"])


@router.get("", response_model=list[OrgOut])
async def list_orgs(actor: CurrentActor, db: DbSession) -> list[OrgOut]:
    return await service.list_orgs(db, actor)


@router.get("/{org_id}/members", response_model=list[MemberOut])
async def list_members(org_id: uuid.UUID, actor: CurrentActor, db: DbSession) -> list[MemberOut]:
    return await service.list_members(db, actor, org_id)


@router.post("/{org_id}/members", status_code=201, response_model=MemberOut)
async def add_member(
    org_id: uuid.UUID, body: MemberIn, actor: CurrentActor, db: DbSession
) -> MemberOut:
    return await service.add_member(db, actor, org_id, body.email, body.role)


@router.patch("/{org_id}/members/{user_id}", response_model=MemberOut)
async def change_role(
    org_id: uuid.UUID, user_id: uuid.UUID, body: RoleIn, actor: CurrentActor, db: DbSession
) -> MemberOut:
    return await service.change_role(db, actor, org_id, user_id, body.role)


@router.delete("/{org_id}/members/{user_id}", status_code=204)
async def remove_member(
    org_id: uuid.UUID, user_id: uuid.UUID, actor: CurrentActor, db: DbSession
) -> Response:
    await service.remove_member(db, actor, org_id, user_id)
    return Response(status_code=204)

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from reeldocs.core.deps import CurrentActor, DbSession
from reeldocs.core.openapi import errors
from reeldocs.orgs import invitations, service
from reeldocs.orgs.schemas import (
    AcceptedOut,
    InvitationOut,
    MemberIn,
    MemberOut,
    MyInvitationOut,
    OrgInfo,
    OrgOut,
    OrgUpdate,
    RoleIn,
    TeamInvitationOut,
)

router = APIRouter(prefix="/api/orgs", tags=["orgs"])
invitations_router = APIRouter(prefix="/api/invitations", tags=["orgs"])


@router.get("", response_model=list[OrgOut])
async def list_orgs(actor: CurrentActor, db: DbSession) -> list[OrgOut]:
    return await service.list_orgs(db, actor)


@router.patch("/{org_id}", response_model=OrgInfo, responses=errors(403, 409))
async def update_org(
    org_id: uuid.UUID, body: OrgUpdate, actor: CurrentActor, db: DbSession
) -> OrgInfo:
    """Rename the team or change its slug (owners only); 409 when another team has the slug.
    The slug is part of the addresses of the team's docs sites."""
    return await service.update(db, actor, org_id, name=body.name, slug=body.slug)


@router.get("/{org_id}/members", response_model=list[MemberOut])
async def list_members(org_id: uuid.UUID, actor: CurrentActor, db: DbSession) -> list[MemberOut]:
    return await service.list_members(db, actor, org_id)


@router.post(
    "/{org_id}/members", status_code=201, response_model=InvitationOut, responses=errors(409)
)
async def invite_member(
    org_id: uuid.UUID, body: MemberIn, actor: CurrentActor, db: DbSession
) -> InvitationOut:
    """Invite an e-mail address into the team (owners only): the person becomes a member
    when they accept, whether or not they have an account yet."""
    return await invitations.invite(db, actor, org_id, email=body.email, role=body.role)


@router.get("/{org_id}/invitations", response_model=list[TeamInvitationOut], responses=errors(403))
async def list_invitations(
    org_id: uuid.UUID, actor: CurrentActor, db: DbSession
) -> list[TeamInvitationOut]:
    return await invitations.team_invitations(db, actor, org_id)


@router.delete("/{org_id}/invitations/{invitation_id}", status_code=204)
async def revoke_invitation(
    org_id: uuid.UUID, invitation_id: uuid.UUID, actor: CurrentActor, db: DbSession
) -> Response:
    await invitations.revoke(db, actor, org_id, invitation_id)
    return Response(status_code=204)


@router.patch("/{org_id}/members/{user_id}", response_model=MemberOut, responses=errors(409))
async def change_role(
    org_id: uuid.UUID, user_id: uuid.UUID, body: RoleIn, actor: CurrentActor, db: DbSession
) -> MemberOut:
    return await service.change_role(db, actor, org_id, user_id, body.role)


@router.delete("/{org_id}/members/{user_id}", status_code=204, responses=errors(409))
async def remove_member(
    org_id: uuid.UUID, user_id: uuid.UUID, actor: CurrentActor, db: DbSession
) -> Response:
    await service.remove_member(db, actor, org_id, user_id)
    return Response(status_code=204)


@invitations_router.get("", response_model=list[MyInvitationOut])
async def my_invitations(actor: CurrentActor, db: DbSession) -> list[MyInvitationOut]:
    return await invitations.received(db, actor)


@invitations_router.post("/{invitation_id}/accept", response_model=AcceptedOut)
async def accept_invitation(
    invitation_id: uuid.UUID, actor: CurrentActor, db: DbSession
) -> AcceptedOut:
    return await invitations.accept(db, actor, invitation_id)


@invitations_router.post("/{invitation_id}/decline", status_code=204)
async def decline_invitation(
    invitation_id: uuid.UUID, actor: CurrentActor, db: DbSession
) -> Response:
    await invitations.decline(db, actor, invitation_id)
    return Response(status_code=204)

"""Settings: a team's members and invitations (owners manage them), the invitations the
user received, their password and their API tokens."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from reeldocs.auth import service as auth
from reeldocs.core.deps import Actor, CurrentActor, DbSession
from reeldocs.core.errors import Invalid, NotFound, ReeldocsError
from reeldocs.orgs import invitations
from reeldocs.orgs import service as orgs
from reeldocs.orgs.models import ROLES
from reeldocs.pages.rendering import render

router = APIRouter(include_in_schema=False)


def _org_id(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        raise NotFound("This team does not exist, or you are not a member of it.") from None


def _role(value: str) -> str:
    if value not in ROLES:
        raise Invalid("Pick a role: owner, editor or viewer.")
    return value


async def _settings_page(
    request: Request,
    db: AsyncSession,
    actor: Actor,
    org_id: uuid.UUID | None,
    *,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
    new_token: str | None = None,
    new_token_name: str | None = None,
) -> Response:
    teams = await orgs.list_orgs(db, actor)
    team = next((t for t in teams if t.id == org_id), None) if org_id else None
    if org_id is not None and team is None:
        raise NotFound("This team does not exist, or you are not a member of it.")
    team = team or (teams[0] if teams else None)
    members = await orgs.list_members(db, actor, team.id) if team else []
    is_owner = team is not None and team.role == "owner"
    return render(
        request,
        "pages/settings.html",
        {
            "teams": teams,
            "team": team,
            "members": members,
            "is_owner": is_owner,
            "pending": (
                await invitations.team_invitations(db, actor, team.id)
                if team is not None and is_owner
                else []
            ),
            "received": await invitations.received(db, actor),
            "roles": ROLES,
            "tokens": await auth.list_tokens(db, actor),
            "error": error,
            "notice": notice,
            "new_token": new_token,
            "new_token_name": new_token_name,
        },
        status=status,
    )


@router.get("/settings")
async def settings_page(
    request: Request, actor: CurrentActor, db: DbSession, org: str | None = None
) -> Response:
    return await _settings_page(request, db, actor, _org_id(org))


def _back(org_id: uuid.UUID) -> Response:
    return RedirectResponse(f"/settings?org={org_id}", status_code=303)


async def _refused(
    request: Request, db: AsyncSession, actor: Actor, org_id: uuid.UUID, error: ReeldocsError
) -> Response:
    # Whatever the failed change did is undone before the page is shown again.
    await db.rollback()
    await db.begin()
    from reeldocs.core.db import act_as_user

    await act_as_user(db, actor.user_id)
    return await _settings_page(request, db, actor, org_id, status=error.status, error=error.detail)


@router.post("/settings/teams/{org_id}/members")
async def invite_member(
    org_id: uuid.UUID,
    request: Request,
    actor: CurrentActor,
    db: DbSession,
    email: Annotated[str, Form(max_length=320)] = "",
    role: Annotated[str, Form()] = "viewer",
) -> Response:
    try:
        sent = await invitations.invite(db, actor, org_id, email=email, role=_role(role))
    except ReeldocsError as error:
        return await _refused(request, db, actor, org_id, error)
    return await _settings_page(
        request,
        db,
        actor,
        org_id,
        notice=f"{sent.email} is invited as {sent.role}: they join when they accept, "
        "after signing in (or signing up) with that address.",
    )


@router.post("/settings/teams/{org_id}/invitations/{invitation_id}/revoke")
async def revoke_invitation(
    org_id: uuid.UUID,
    invitation_id: uuid.UUID,
    request: Request,
    actor: CurrentActor,
    db: DbSession,
) -> Response:
    try:
        await invitations.revoke(db, actor, org_id, invitation_id)
    except ReeldocsError as error:
        return await _refused(request, db, actor, org_id, error)
    return _back(org_id)


@router.post("/settings/invitations/{invitation_id}/{answer}")
async def answer_invitation(
    invitation_id: uuid.UUID,
    answer: str,
    request: Request,
    actor: CurrentActor,
    db: DbSession,
) -> Response:
    if answer == "accept":
        joined = await invitations.accept(db, actor, invitation_id)
        return _back(joined.org_id)
    if answer == "decline":
        await invitations.decline(db, actor, invitation_id)
        return RedirectResponse("/settings", status_code=303)
    raise NotFound("There is nothing at this address.")


@router.post("/settings/password")
async def change_password(
    request: Request,
    actor: CurrentActor,
    db: DbSession,
    current_password: Annotated[str, Form(max_length=1024)] = "",
    new_password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    try:
        await auth.change_password(
            db, actor, current_password=current_password, new_password=new_password
        )
    except ReeldocsError as error:
        await db.rollback()
        await db.begin()
        from reeldocs.core.db import act_as_user

        await act_as_user(db, actor.user_id)
        return await _settings_page(
            request, db, actor, None, status=error.status, error=error.detail
        )
    return await _settings_page(
        request,
        db,
        actor,
        None,
        notice="Your password is changed. Your other sessions have ended; this one goes on.",
    )


@router.post("/settings/teams/{org_id}/members/{user_id}/role")
async def change_role(
    org_id: uuid.UUID,
    user_id: uuid.UUID,
    request: Request,
    actor: CurrentActor,
    db: DbSession,
    role: Annotated[str, Form()] = "",
) -> Response:
    try:
        await orgs.change_role(db, actor, org_id, user_id, _role(role))
    except ReeldocsError as error:
        return await _refused(request, db, actor, org_id, error)
    return _back(org_id)


@router.post("/settings/teams/{org_id}/members/{user_id}/remove")
async def remove_member(
    org_id: uuid.UUID,
    user_id: uuid.UUID,
    request: Request,
    actor: CurrentActor,
    db: DbSession,
) -> Response:
    try:
        await orgs.remove_member(db, actor, org_id, user_id)
    except ReeldocsError as error:
        return await _refused(request, db, actor, org_id, error)
    if user_id == actor.user_id:
        return RedirectResponse("/settings", status_code=303)
    return _back(org_id)


@router.post("/settings/tokens")
async def create_token(
    request: Request,
    actor: CurrentActor,
    db: DbSession,
    name: Annotated[str, Form(max_length=200)] = "",
    org: Annotated[str, Form()] = "",
) -> Response:
    org_id = _org_id(org)
    if not name.strip():
        return await _settings_page(
            request, db, actor, org_id, status=422, error="Give the token a name, such as 'CI'."
        )
    row, token = await auth.create_token(db, actor, name)
    # Shown on this answer only: the server keeps just a hash of it.
    return await _settings_page(
        request, db, actor, org_id, new_token=token, new_token_name=row.name
    )


@router.post("/settings/tokens/{token_id}/revoke")
async def revoke_token(
    token_id: uuid.UUID,
    actor: CurrentActor,
    db: DbSession,
    org: Annotated[str, Form()] = "",
) -> Response:
    await auth.revoke_token(db, actor, token_id)
    org_id = _org_id(org)
    return RedirectResponse(f"/settings?org={org_id}" if org_id else "/settings", status_code=303)

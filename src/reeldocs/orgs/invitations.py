"""Invitations: how a person joins a team, by their own choice.

An owner invites an e-mail address with a role; nothing tells the owner whether an
account with that address exists (an address book must not be read through the
invite form). The person sees the invitation once signed in with that address, and
accepts it (they become a member with that role) or declines it; owners see their
team's pending invitations and may revoke them. The operator's `reeldocs orgs
add-member` still adds an existing account at once.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from reeldocs.auth.models import User
from reeldocs.core.db import as_service
from reeldocs.core.deps import Actor
from reeldocs.core.errors import Conflict, Invalid, NotFound
from reeldocs.core.text import (
    EMAIL_RE,
    INVISIBLE_IN_EMAIL,
    has_invisible_characters,
    normalise_email,
)
from reeldocs.orgs.access import require_owner
from reeldocs.orgs.models import Invitation, Member, Organization
from reeldocs.orgs.schemas import (
    AcceptedOut,
    InvitationOut,
    MyInvitationOut,
    TeamInvitationOut,
)

GONE = "This invitation does not exist any more: it was accepted, declined or revoked."


def _checked_email(email: str) -> str:
    if has_invisible_characters(email.strip()):
        raise Invalid(INVISIBLE_IN_EMAIL)
    address = normalise_email(email)
    if not EMAIL_RE.match(address):
        raise Invalid("Enter a valid e-mail address, such as ada@example.com.")
    return address


async def invite(
    session: AsyncSession, actor: Actor, org_id: uuid.UUID, *, email: str, role: str
) -> InvitationOut:
    """A pending invitation for `email` (a second invitation of one address updates its
    role). Owners only; a member of the team already is a conflict, told to its owner."""
    await require_owner(session, actor, org_id)
    address = _checked_email(email)
    # Owners see their own team's members: this reveals nothing they could not list.
    member = (
        await session.execute(
            sa.select(Member.user_id)
            .join(User, User.id == Member.user_id)
            .where(Member.org_id == org_id, User.email == address)
        )
    ).first()
    if member is not None:
        raise Conflict(
            f"That person ({address}) is already a member of this team: change their role instead."
        )
    invitation_id = (
        await session.execute(
            pg_insert(Invitation)
            .values(org_id=org_id, email=address, role=role, invited_by=actor.user_id)
            .on_conflict_do_update(
                index_elements=[Invitation.org_id, Invitation.email],
                set_={"role": role, "invited_by": actor.user_id, "created_at": sa.func.now()},
            )
            .returning(Invitation.id)
        )
    ).scalar_one()
    return InvitationOut(invitation_id=invitation_id, email=address, role=role)


async def team_invitations(
    session: AsyncSession, actor: Actor, org_id: uuid.UUID
) -> list[TeamInvitationOut]:
    await require_owner(session, actor, org_id)
    rows = await session.execute(
        sa.select(Invitation)
        .where(Invitation.org_id == org_id)
        .order_by(Invitation.created_at, Invitation.email)
    )
    return [TeamInvitationOut.model_validate(row, from_attributes=True) for row in rows.scalars()]


async def revoke(
    session: AsyncSession, actor: Actor, org_id: uuid.UUID, invitation_id: uuid.UUID
) -> None:
    await require_owner(session, actor, org_id)
    removed = await session.execute(
        sa.delete(Invitation)
        .where(Invitation.id == invitation_id, Invitation.org_id == org_id)
        .returning(Invitation.id)
    )
    if removed.first() is None:
        raise NotFound(GONE)


async def received(session: AsyncSession, actor: Actor) -> list[MyInvitationOut]:
    """The caller's pending invitations, with the names of teams they are not in yet."""
    inviter = sa.func.coalesce(sa.func.nullif(User.name, ""), User.email)
    # The team's name and the inviter's are not the caller's to read until they join:
    # the service role reads them, for the caller's own address only.
    async with as_service(session):
        rows = await session.execute(
            sa.select(
                Invitation.id,
                Invitation.org_id,
                Organization.name.label("org_name"),
                Invitation.role,
                inviter.label("invited_by"),
                Invitation.created_at,
            )
            .join(Organization, Organization.id == Invitation.org_id)
            .outerjoin(User, User.id == Invitation.invited_by)
            .where(Invitation.email == normalise_email(actor.email))
            .order_by(Invitation.created_at)
        )
        return [MyInvitationOut.model_validate(row, from_attributes=True) for row in rows]


async def _mine(session: AsyncSession, actor: Actor, invitation_id: uuid.UUID) -> Invitation:
    invitation = (
        await session.execute(
            sa.select(Invitation).where(
                Invitation.id == invitation_id,
                Invitation.email == normalise_email(actor.email),
            )
        )
    ).scalar_one_or_none()
    if invitation is None:
        raise NotFound(GONE)
    return invitation


async def accept(session: AsyncSession, actor: Actor, invitation_id: uuid.UUID) -> AcceptedOut:
    """The caller joins the team with the invitation's role (a member already keeps the
    role they have), and the invitation is used up."""
    invitation = await _mine(session, actor, invitation_id)
    org_id, role = invitation.org_id, invitation.role
    # Members are added by owners under the policies; this one is added by their own
    # acceptance of an owner's invitation, which the service role carries out.
    async with as_service(session):
        await session.execute(
            pg_insert(Member)
            .values(org_id=org_id, user_id=actor.user_id, role=role)
            .on_conflict_do_nothing(index_elements=[Member.org_id, Member.user_id])
        )
        role = (
            await session.execute(
                sa.select(Member.role).where(
                    Member.org_id == org_id, Member.user_id == actor.user_id
                )
            )
        ).scalar_one()
        await session.execute(sa.delete(Invitation).where(Invitation.id == invitation_id))
    return AcceptedOut(org_id=org_id, role=role)


async def decline(session: AsyncSession, actor: Actor, invitation_id: uuid.UUID) -> None:
    await _mine(session, actor, invitation_id)
    await session.execute(sa.delete(Invitation).where(Invitation.id == invitation_id))

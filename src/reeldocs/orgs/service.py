"""Organisations and their members."""

from __future__ import annotations

import re
import uuid

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from reeldocs.auth.models import User
from reeldocs.core.deps import Actor
from reeldocs.core.errors import Conflict, Forbidden, Invalid, NotFound
from reeldocs.core.text import normalise_email, printable
from reeldocs.orgs.access import require_member
from reeldocs.orgs.models import Member, Organization
from reeldocs.orgs.schemas import SLUG_MAX_LENGTH, MemberOut, OrgInfo, OrgOut

SLUG_SHAPE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


async def list_orgs(session: AsyncSession, actor: Actor) -> list[OrgOut]:
    rows = await session.execute(
        sa.select(Organization, Member.role)
        .join(Member, Member.org_id == Organization.id)
        .where(Member.user_id == actor.user_id)
        # The caller's own workspace first, then teams in the order they joined them.
        .order_by(Organization.personal.desc(), Member.created_at, Organization.name)
    )
    return [OrgOut(id=o.id, name=o.name, slug=o.slug, role=role) for o, role in rows]


async def personal_org_id(session: AsyncSession, actor: Actor) -> uuid.UUID:
    """The workspace made for the caller at sign-up.

    Every workspace is "personal" to whoever signed up with it, so joining
    someone else's must not change which one is the caller's: theirs is the
    personal one they own and joined first (at sign-up).
    """
    org_id = (
        await session.execute(
            sa.select(Organization.id)
            .join(Member, Member.org_id == Organization.id)
            .where(Member.user_id == actor.user_id)
            .order_by(
                Organization.personal.desc(),
                (Member.role == "owner").desc(),
                Member.created_at,
            )
            .limit(1)
        )
    ).scalar_one_or_none()
    if org_id is None:
        raise NotFound(
            "You are not a member of any team yet: ask an owner to add you, "
            "or name the team's org_id."
        )
    return org_id


async def update(
    session: AsyncSession,
    actor: Actor,
    org_id: uuid.UUID,
    *,
    name: str | None = None,
    slug: str | None = None,
) -> OrgInfo:
    """Rename the team, or give it another slug (owners only). Links to its docs sites
    change with the slug: the old addresses answer 404 from then on."""
    refused = Forbidden("Only the team's owners can change its name or its slug.")
    if await require_member(session, actor, org_id, "team") != "owner":
        raise refused
    # Held until the end: another owner cannot demote the caller halfway through. (Locked
    # only now: the lock needs the rights of an owner, and a viewer would find no row.)
    still_owner = (
        await session.execute(
            sa.select(Member.role)
            .where(Member.org_id == org_id, Member.user_id == actor.user_id)
            .with_for_update(read=True)
        )
    ).scalar_one_or_none()
    if still_owner != "owner":
        raise refused
    org = await session.get(Organization, org_id)
    if org is None:  # deleted since the membership was read
        raise NotFound("This team does not exist, or you are not a member of it.")
    if name is not None:
        cleaned = printable(name)
        if not cleaned:
            raise Invalid("Give the team a name.")
        org.name = cleaned
    await session.flush()
    if slug is not None and slug.strip().lower() != org.slug:
        wanted = _checked_slug(slug)
        # Other teams are hidden from the caller: their unique slug speaks for them.
        try:
            async with session.begin_nested():
                org.slug = wanted
                await session.flush()
        except IntegrityError:
            raise Conflict(
                f"Another team already has the slug {wanted!r}: choose another one."
            ) from None
    return OrgInfo(id=org.id, name=org.name, slug=org.slug)


def _checked_slug(slug: str) -> str:
    cleaned = slug.strip().lower()
    if not SLUG_SHAPE.match(cleaned) or len(cleaned) > SLUG_MAX_LENGTH:
        raise Invalid(
            "A team's slug is made of lowercase letters, digits and single hyphens between "
            f"them (up to {SLUG_MAX_LENGTH} characters), such as acme-docs."
        )
    return cleaned


async def list_members(session: AsyncSession, actor: Actor, org_id: uuid.UUID) -> list[MemberOut]:
    await require_member(session, actor, org_id)
    rows = await session.execute(
        sa.select(Member.user_id, User.email, Member.role)
        .join(User, User.id == Member.user_id)
        .where(Member.org_id == org_id)
        .order_by(User.email)
    )
    return [MemberOut(user_id=r.user_id, email=r.email, role=r.role) for r in rows]


async def _lock_owners(session: AsyncSession, actor: Actor, org_id: uuid.UUID) -> list[uuid.UUID]:
    """The team's owners, locked until the transaction ends, once the caller is one of them.

    The check comes after the lock: checked before, a caller demoted by another owner
    while waiting for the lock would go on to change members as an owner no longer
    (the database's policies then refuse the change, and the request would fail).
    Locking in a fixed order keeps two owners acting at once from deadlocking.
    """
    role_before = await require_member(session, actor, org_id)
    rows = await session.execute(
        sa.select(Member.user_id)
        .where(Member.org_id == org_id, Member.role == "owner")
        .order_by(Member.user_id)
        .with_for_update()
    )
    owners = list(rows.scalars())
    if actor.user_id not in owners:
        if role_before == "owner":
            raise Forbidden(
                "You are no longer an owner of this team (another owner changed your role "
                "just now), so you cannot manage its members."
            )
        raise Forbidden("Only the team's owners can manage its members.")
    return owners


async def _member(session: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID) -> Member:
    member = (
        await session.execute(
            sa.select(Member).where(Member.org_id == org_id, Member.user_id == user_id)
        )
    ).scalar_one_or_none()
    if member is None:
        raise NotFound("This person is not a member of this team.")
    return member


async def change_role(
    session: AsyncSession, actor: Actor, org_id: uuid.UUID, user_id: uuid.UUID, role: str
) -> MemberOut:
    owners = await _lock_owners(session, actor, org_id)
    member = await _member(session, org_id, user_id)
    if member.role == "owner" and role != "owner" and owners == [user_id]:
        raise Conflict("A team needs at least one owner: make someone else an owner first.")
    member.role = role
    await session.flush()
    email = (await session.execute(sa.select(User.email).where(User.id == user_id))).scalar_one()
    return MemberOut(user_id=user_id, email=email, role=role)


async def remove_member(
    session: AsyncSession, actor: Actor, org_id: uuid.UUID, user_id: uuid.UUID
) -> None:
    owners = await _lock_owners(session, actor, org_id)
    member = await _member(session, org_id, user_id)
    if member.role == "owner" and owners == [user_id]:
        raise Conflict("The last owner cannot leave a team: make someone else an owner first.")
    await session.delete(member)
    await session.flush()


async def list_all_with_member_counts(session: AsyncSession) -> list[tuple[Organization, int]]:
    """The CLI's way in (an operator looking for a team's slug): runs as the service role,
    so every team is there, oldest first."""
    rows = await session.execute(
        sa.select(Organization, sa.func.count(Member.user_id))
        .outerjoin(Member, Member.org_id == Organization.id)
        .group_by(Organization.id)
        .order_by(Organization.created_at, Organization.slug)
    )
    return [(org, int(members)) for org, members in rows]


async def add_member_by_slug(session: AsyncSession, slug: str, email: str, role: str) -> None:
    """The CLI's way in: runs as the service role."""
    org_id = (
        await session.execute(sa.select(Organization.id).where(Organization.slug == slug))
    ).scalar_one_or_none()
    if org_id is None:
        raise NotFound(f"There is no team with the slug {slug!r}.")
    user_id = (
        await session.execute(sa.select(User.id).where(User.email == normalise_email(email)))
    ).scalar_one_or_none()
    if user_id is None:
        raise NotFound(f"There is no user with the e-mail address {email}.")
    await session.execute(
        sa.text(
            "INSERT INTO organization_members (org_id, user_id, role) VALUES (:o, :u, :r) "
            "ON CONFLICT (org_id, user_id) DO UPDATE SET role = EXCLUDED.role"
        ),
        {"o": org_id, "u": user_id, "r": role},
    )

"""App-level access checks: the second line behind the database's policies.

They exist to turn what the policies would silently filter into answers a
person understands: 404 for what belongs to another organisation, 403 for a
viewer asking to change something.
"""

from __future__ import annotations

import uuid
from typing import Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from reeldocs.core.deps import Actor
from reeldocs.core.errors import Forbidden, NotFound
from reeldocs.orgs.models import WRITER_ROLES, Member


async def role_in(session: AsyncSession, actor: Actor, org_id: uuid.UUID) -> str | None:
    return (
        await session.execute(
            sa.select(Member.role).where(Member.org_id == org_id, Member.user_id == actor.user_id)
        )
    ).scalar_one_or_none()


async def require_member(
    session: AsyncSession, actor: Actor, org_id: uuid.UUID, what: str = "organisation"
) -> str:
    role = await role_in(session, actor, org_id)
    if role is None:
        raise NotFound(f"This {what} does not exist, or you are not a member of its team.")
    return role


async def require_writer(
    session: AsyncSession, actor: Actor, org_id: uuid.UUID, what: str = "organisation"
) -> str:
    role = await require_member(session, actor, org_id, what)
    if role not in WRITER_ROLES:
        raise Forbidden(
            "You are a viewer in this team: ask an owner to make you an editor to change things."
        )
    return role


async def require_owner(session: AsyncSession, actor: Actor, org_id: uuid.UUID) -> None:
    role = await require_member(session, actor, org_id)
    if role != "owner":
        raise Forbidden("Only the team's owners can manage its members.")


class _TeamRow(Protocol):
    org_id: uuid.UUID


TeamRow = TypeVar("TeamRow", bound=_TeamRow)


async def get_in_team(
    session: AsyncSession,
    actor: Actor,
    model: type[TeamRow],
    row_id: uuid.UUID,
    what: str,
    *,
    write: bool = False,
) -> TeamRow:
    """The row of a team's table, once the caller is a member of that team (a writer with
    `write`); 404 when it does not exist or belongs to a team the caller is not in."""
    row = await session.get(model, row_id)
    if row is None:
        raise NotFound(f"This {what} does not exist, or it belongs to another team.")
    if write:
        await require_writer(session, actor, row.org_id, what)
    else:
        await require_member(session, actor, row.org_id, what)
    return row

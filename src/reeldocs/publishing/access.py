"""Who reads a docs site, and as which database role.

Every request starts as `reeldocs_public`, the anonymous readers' role: its policies show a
project only when its docs are public, and of it only the published videos that have docs.
When that role finds no site at the address, a signed-in member of the project's team may
still look at it (a private project's preview): their session switches the transaction to
`reeldocs_app` with their id, and its policies show them their team's projects whole.
Anyone else gets the same 404 as for an address that never existed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from reeldocs.core import security
from reeldocs.core.db import act_as_public, raw_driver_connection
from reeldocs.core.deps import session_actor
from reeldocs.core.errors import NotFound
from reeldocs.publishing.addresses import site_path

# One sentence for every address under /p/ that shows nothing: a private or unpublished
# site, a deleted video, a mistyped slug. Nobody learns which.
NOTHING_PUBLISHED_HERE = (
    "There is no published documentation at this address: the link may be out of date, "
    "or its docs are no longer public."
)


def nothing_here() -> NotFound:
    return NotFound(NOTHING_PUBLISHED_HERE)


@dataclass(frozen=True)
class Site:
    """One project's docs site, as the request may see it."""

    org_id: uuid.UUID
    org_slug: str
    org_name: str
    project_id: uuid.UUID
    project_slug: str
    project_name: str
    public: bool  # the project's docs are public
    preview: bool  # a member's look at a private project: every video with docs shows

    @property
    def path(self) -> str:
        return site_path(self.org_slug, self.project_slug)


_FIND_SITE = sa.text(
    "SELECT o.id, o.slug, o.name, p.id, p.slug, p.name, p.public_docs "
    "FROM projects p JOIN organizations o ON o.id = p.org_id "
    "WHERE o.slug = :org AND p.slug = :project"
)


async def _find(
    db: AsyncSession, org_slug: str, project_slug: str, *, preview: bool
) -> Site | None:
    row = (await db.execute(_FIND_SITE, {"org": org_slug, "project": project_slug})).one_or_none()
    if row is None:
        return None
    return Site(row[0], row[1], row[2], row[3], row[4], row[5], bool(row[6]), preview)


async def open_site(request: Request, db: AsyncSession, org_slug: str, project_slug: str) -> Site:
    """The site at this address, the request's transaction switched to the role that reads
    it; the 404 of `nothing_here` when the caller may not see it."""
    await act_as_public(db)
    site = await _find(db, org_slug, project_slug, preview=False)
    if site is not None and site.public:
        return site
    if request.cookies.get(security.SESSION_COOKIE):
        # Sessions are read as the login role, which then hands over to the member's rights.
        await db.execute(sa.text("RESET ROLE"))
        actor = await session_actor(await raw_driver_connection(db), request)
        if actor is not None:
            site = await _find(db, org_slug, project_slug, preview=True)
            # Public projects show every reader the same published site, members included.
            if site is not None and not site.public:
                return site
        await act_as_public(db)
    raise nothing_here()

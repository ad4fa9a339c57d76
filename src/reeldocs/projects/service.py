"""Projects: a team's folder of videos."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from reeldocs.core.db import insert_unique, unused_slug
from reeldocs.core.deps import Actor
from reeldocs.core.errors import Invalid, NotFound
from reeldocs.core.text import printable, slugify
from reeldocs.orgs import service as orgs
from reeldocs.orgs.access import get_in_team, require_writer
from reeldocs.orgs.models import Organization
from reeldocs.projects.models import Project
from reeldocs.projects.schemas import ProjectOut
from reeldocs.publishing.addresses import public_url


def _clean_name(name: str) -> str:
    name = printable(name)
    if not name:
        raise Invalid("Give the project a name.")
    return name


async def _unique_slug(session: AsyncSession, org_id: uuid.UUID, name: str) -> str:
    base = slugify(name, fallback="project")
    return await unused_slug(session, Project.slug, base, (Project.org_id, org_id))


async def create(
    session: AsyncSession, actor: Actor, name: str, org_id: uuid.UUID | None
) -> Project:
    name = _clean_name(name)
    org_id = org_id or await orgs.personal_org_id(session, actor)
    await require_writer(session, actor, org_id)

    async def build() -> Project:
        return Project(org_id=org_id, name=name, slug=await _unique_slug(session, org_id, name))

    return await insert_unique(session, build)


async def list_for(session: AsyncSession, actor: Actor) -> list[Project]:
    # No org filter: the policies show exactly the projects of the caller's teams.
    result = await session.execute(sa.select(Project).order_by(Project.created_at.desc()))
    return list(result.scalars())


async def get(session: AsyncSession, actor: Actor, project_id: uuid.UUID) -> Project:
    return await get_in_team(session, actor, Project, project_id, "project")


async def update(
    session: AsyncSession,
    actor: Actor,
    project_id: uuid.UUID,
    *,
    name: str | None = None,
    public_docs: bool | None = None,
) -> Project:
    """Rename the project, or open its docs site to anyone (or close it again)."""
    project = await get(session, actor, project_id)
    await require_writer(session, actor, project.org_id)
    if name is not None:
        project.name = _clean_name(name)
    if public_docs is not None:
        project.public_docs = public_docs
    await session.flush()
    return project


async def describe(
    session: AsyncSession, projects: list[Project], base_url: str
) -> list[ProjectOut]:
    """The projects as the API answers them, with their docs sites' addresses."""
    org_ids = {project.org_id for project in projects}
    slugs: dict[uuid.UUID, str] = {}
    if org_ids:
        rows = await session.execute(
            sa.select(Organization.id, Organization.slug).where(Organization.id.in_(org_ids))
        )
        slugs = {org_id: slug for org_id, slug in rows}
    return [
        ProjectOut(
            id=project.id,
            name=project.name,
            slug=project.slug,
            org_id=project.org_id,
            public_docs=project.public_docs,
            public_url=public_url(base_url, slugs[project.org_id], project.slug),
        )
        for project in projects
    ]


async def delete(session: AsyncSession, actor: Actor, project_id: uuid.UUID) -> list[str]:
    """Delete the project's rows; return the storage prefixes to remove after commit."""
    from reeldocs.videos.models import Video

    project = await get(session, actor, project_id)
    await require_writer(session, actor, project.org_id)
    video_ids = list(
        (await session.execute(sa.select(Video.id).where(Video.project_id == project.id))).scalars()
    )
    from reeldocs.jobs import service as jobs

    for video_id in video_ids:
        await jobs.cancel_for_deleted_video(session, video_id)
    await session.delete(project)
    await session.flush()
    return [f"videos/{video_id}" for video_id in video_ids]


# How the command line names a project: its id, or its team's slug and its own.
ProjectReference = uuid.UUID | tuple[str, str]


def parse_reference(text: str) -> ProjectReference:
    """`ORG_SLUG/PROJECT_SLUG` or a project's id; ValueError (a sentence) for anything else."""
    text = text.strip()
    try:
        return uuid.UUID(text)
    except ValueError:
        pass
    org_slug, slash, project_slug = text.partition("/")
    if not slash or not org_slug or not project_slug or "/" in project_slug:
        raise ValueError(
            f"{text!r} names no project: give ORG_SLUG/PROJECT_SLUG (`reeldocs orgs list` "
            "shows the teams' slugs) or the project's id."
        )
    return org_slug, project_slug


async def get_by_reference(session: AsyncSession, reference: ProjectReference) -> Project:
    """The CLI's way in: runs as the service role, whatever the project's team."""
    if isinstance(reference, uuid.UUID):
        project = await session.get(Project, reference)
        if project is None:
            raise NotFound(f"There is no project with the id {reference}.")
        return project
    org_slug, project_slug = reference
    org_id = (
        await session.execute(sa.select(Organization.id).where(Organization.slug == org_slug))
    ).scalar_one_or_none()
    if org_id is None:
        raise NotFound(
            f"There is no team with the slug {org_slug!r}: `reeldocs orgs list` shows them."
        )
    found = (
        await session.execute(
            sa.select(Project).where(Project.org_id == org_id, Project.slug == project_slug)
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"The team {org_slug!r} has no project with the slug {project_slug!r}.")
    return found


COMMAND_LINE_NAME = "Command line"


async def command_line_project(session: AsyncSession) -> Project:
    """The CLI's default project: "Command line" in a "Command line" team, both made on
    first use. Runs as the service role; the team has no members until an operator adds
    them (`reeldocs orgs add-member`)."""
    # Two commands starting at once must not make two teams.
    await session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('reeldocs.cli-team'))"))
    org_id = (
        await session.execute(
            sa.select(Organization.id)
            .where(Organization.name == COMMAND_LINE_NAME, Organization.personal.is_(False))
            .order_by(Organization.created_at)
            .limit(1)
        )
    ).scalar_one_or_none()
    if org_id is None:
        base = slugify(COMMAND_LINE_NAME, fallback="team")

        async def build_team() -> Organization:
            slug = await unused_slug(session, Organization.slug, base)
            return Organization(name=COMMAND_LINE_NAME, slug=slug, personal=False)

        org = await insert_unique(session, build_team)
        await session.flush()
        org_id = org.id
    project = (
        await session.execute(
            sa.select(Project)
            .where(Project.org_id == org_id, Project.name == COMMAND_LINE_NAME)
            .order_by(Project.created_at)
            .limit(1)
        )
    ).scalar_one_or_none()
    if project is not None:
        return project

    async def build() -> Project:
        slug = await _unique_slug(session, org_id, COMMAND_LINE_NAME)
        return Project(org_id=org_id, name=COMMAND_LINE_NAME, slug=slug)

    project = await insert_unique(session, build)
    await session.flush()
    return project

"""Reads the pages need that the domain services do not offer.

Everything here runs as the user (the request's role), so the database's policies
decide what is visible; the app-level checks are done by the services called first.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from reeldocs.jobs.models import ACTIVE_STATUSES, ProcessingJob
from reeldocs.orgs.models import Organization
from reeldocs.projects.models import Project
from reeldocs.videos.models import Video


@dataclass(frozen=True)
class JobsStamp:
    """What the idle jobs card compares against to learn that something changed."""

    active: int
    latest: str  # newest updated_at of the project's jobs, ISO 8601, or "" when none


async def project_jobs_stamp(session: AsyncSession, project_id: uuid.UUID) -> JobsStamp:
    row = (
        await session.execute(
            sa.select(
                sa.func.count().filter(ProcessingJob.status.in_(ACTIVE_STATUSES)),
                sa.func.max(ProcessingJob.updated_at),
            ).where(ProcessingJob.project_id == project_id)
        )
    ).one()
    active, latest = row
    return JobsStamp(int(active or 0), latest.isoformat() if latest else "")


@dataclass
class ProjectRow:
    id: uuid.UUID
    name: str
    org_name: str
    role: str
    videos: int
    active_jobs: int


async def dashboard_projects(session: AsyncSession, user_id: uuid.UUID) -> list[ProjectRow]:
    from reeldocs.orgs.models import Member

    video_count = (
        sa.select(sa.func.count())
        .where(Video.project_id == Project.id)
        .correlate(Project)
        .scalar_subquery()
    )
    active_count = (
        sa.select(sa.func.count())
        .where(
            ProcessingJob.project_id == Project.id,
            ProcessingJob.status.in_(ACTIVE_STATUSES),
        )
        .correlate(Project)
        .scalar_subquery()
    )
    rows = await session.execute(
        sa.select(Project, Organization.name, Member.role, video_count, active_count)
        .join(Organization, Organization.id == Project.org_id)
        .join(Member, (Member.org_id == Project.org_id) & (Member.user_id == user_id))
        .order_by(Project.created_at.desc())
    )
    return [
        ProjectRow(project.id, project.name, org_name, role, int(videos), int(active))
        for project, org_name, role, videos, active in rows
    ]


async def org_name(session: AsyncSession, org_id: uuid.UUID) -> str:
    return (
        await session.execute(sa.select(Organization.name).where(Organization.id == org_id))
    ).scalar_one()


async def proposal_time(session: AsyncSession, article_id: uuid.UUID) -> datetime | None:
    """When a later job offered its text for the article (the API's proposal leaves it out)."""
    from reeldocs.docs.models import Article

    found: datetime | None = (
        await session.execute(
            sa.select(Article.proposal_created_at).where(Article.id == article_id)
        )
    ).scalar_one_or_none()
    return found


async def org_slug(session: AsyncSession, org_id: uuid.UUID) -> str:
    return (
        await session.execute(sa.select(Organization.slug).where(Organization.id == org_id))
    ).scalar_one()

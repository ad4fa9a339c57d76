"""Reading one job for the pages and clients that poll it, in as few round trips as may be.

A poll that already holds the current answer is told so (304) from a small query of
the job's version: when its row and its video's row last changed, and the caller's
role in its team. Otherwise one query reads the job, its video's title and the
caller's role together. Both run as the requesting user, so row-level security
decides what they see: a job of another team is simply not there. They run on the
driver's connection (see `core.deps.user_transaction`): polls are most of a busy
server's requests, and SQLAlchemy would add some 100 µs of CPU to each statement.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reeldocs.core.db import DriverConnection
from reeldocs.core.errors import NotFound
from reeldocs.jobs.schemas import JobOut

_VERSION = """
    SELECT j.project_id, j.updated_at, v.updated_at, reeldocs_private.org_role(j.org_id)
    FROM processing_jobs j JOIN videos v ON v.id = j.video_id
    WHERE j.id = %s
"""

_JOB = """
    SELECT j.project_id, j.updated_at, v.updated_at, reeldocs_private.org_role(j.org_id),
           j.video_id, v.title, j.status, j.step, j.step_message, j.progress,
           j.error_message, j.failed_step, j.languages, j.language_results, j.attempt,
           j.retry_of, j.providers, j.started_at, j.completed_at, j.created_at, j.kind
    FROM processing_jobs j JOIN videos v ON v.id = j.video_id
    WHERE j.id = %s
"""

NOT_FOUND = "This job does not exist, or it belongs to another team."


@dataclass(frozen=True)
class JobVersion:
    """What a job's answer depends on, short of the job itself."""

    job_id: uuid.UUID
    project_id: uuid.UUID
    updated_at: datetime  # set by a trigger on every update of the job's row
    video_updated_at: datetime  # the title shown with the job lives in the video's row
    role: str  # the caller's role in the job's team: what the pages let them do

    def etag(self, *extra: str) -> str:
        """A weak validator of the job's answer; `extra` adds what else that answer shows."""
        parts = [
            str(self.job_id),
            f"{self.updated_at.timestamp():.6f}",
            f"{self.video_updated_at.timestamp():.6f}",
            *extra,
        ]
        return f'W/"{"-".join(parts)}"'


@dataclass(frozen=True)
class ReadJob:
    job: JobOut
    version: JobVersion


async def _row(conn: DriverConnection, query: str, job_id: uuid.UUID) -> tuple[Any, ...]:
    cursor = await conn.execute(query, (job_id,))
    row = await cursor.fetchone()
    if row is None or row[3] is None:
        raise NotFound(NOT_FOUND)
    return row


async def job_version(conn: DriverConnection, job_id: uuid.UUID) -> JobVersion:
    """The job's version, read as the user whose transaction `conn` is in."""
    row = await _row(conn, _VERSION, job_id)
    return JobVersion(job_id, *row)


async def read_job(conn: DriverConnection, job_id: uuid.UUID) -> ReadJob:
    """The job with its video's title and its version, read as the user of `conn`."""
    row = await _row(conn, _JOB, job_id)
    version = JobVersion(job_id, *row[:4])
    (
        video_id,
        video_title,
        status,
        step,
        step_message,
        progress,
        error_message,
        failed_step,
        languages,
        language_results,
        attempt,
        retry_of,
        providers,
        started_at,
        completed_at,
        created_at,
        kind,
    ) = row[4:]
    job = JobOut(
        id=job_id,
        project_id=version.project_id,
        video_id=video_id,
        video_title=video_title,
        status=status,
        step=step,
        step_message=step_message,
        progress=float(progress),
        error_message=error_message,
        failed_step=failed_step,
        languages=list(languages),
        language_results=dict(language_results or {}),
        attempt=attempt,
        retry_of=retry_of,
        providers=dict(providers or {}),
        started_at=started_at,
        completed_at=completed_at,
        created_at=created_at,
        updated_at=version.updated_at,
        kind=kind,
    )
    return ReadJob(job, version)


def matches(if_none_match: str | None, etag: str) -> bool:
    """Whether a request's If-None-Match names this ETag (a list, `*`, weak or strong)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(
        candidate.strip().removeprefix("W/") == bare for candidate in if_none_match.split(",")
    )


def digest(*parts: str) -> str:
    """A short stand-in for values an ETag must follow but should not show."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:12]

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import Response

from reeldocs.core.deps import AppSettings, CurrentActor, DbSession, user_transaction
from reeldocs.core.openapi import errors, signed_in
from reeldocs.jobs import reading, service
from reeldocs.jobs.schemas import (
    CancelOut,
    JobOut,
    JobRef,
    ProcessConflictOut,
    ProcessIn,
    ProcessOut,
    RetranslateIn,
)

router = APIRouter(prefix="/api", tags=["jobs"])
# What every open tab polls, mounted ahead of every other route (see app.py).
polling_router = APIRouter(prefix="/api", tags=["jobs"])


@router.post(
    "/videos/process",
    status_code=202,
    response_model=ProcessOut,
    # 404 for a video_id the caller cannot see; 409 while the video uploads or has a job
    responses={**errors(404), **errors(409, model=ProcessConflictOut)},
)
async def process_video(
    body: ProcessIn, request: Request, actor: CurrentActor, db: DbSession, settings: AppSettings
) -> ProcessOut:
    job = await service.create_job(
        db,
        actor,
        request.app.state.queue,
        settings,
        body.video_id,
        body.languages,
        body.source_language,
    )
    return ProcessOut(job_id=job.id, jobId=job.id)


@router.post(
    "/videos/{video_id}/retranslate",
    status_code=202,
    response_model=JobRef,
    # 409 while the video has a job, or when its docs have nothing to translate again
    responses={**errors(403), **errors(409, model=ProcessConflictOut)},
)
async def retranslate_video(
    video_id: uuid.UUID,
    request: Request,
    actor: CurrentActor,
    db: DbSession,
    settings: AppSettings,
    body: Annotated[RetranslateIn | None, Body()] = None,
) -> JobRef:
    """Translate the video's docs again from their current primary text, as a job (steps
    `translating_<lang>`, then `subtitles`), without processing the video. Untouched
    translations are replaced; one a person edited gets the new text as its proposal."""
    job = await service.create_retranslate_job(
        db,
        actor,
        request.app.state.queue,
        settings,
        video_id,
        body.languages if body is not None else None,
    )
    return JobRef(job_id=job.id)


@polling_router.get(
    "/jobs/{job_id}",
    response_model=JobOut,
    responses={304: {"description": "Unchanged since the ETag sent in If-None-Match"}},
    openapi_extra={
        **signed_in(404),
        "parameters": [
            {
                "name": "If-None-Match",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": "The ETag of the last answer: 304 while the job is unchanged.",
            }
        ],
    },
)
async def get_job(job_id: uuid.UUID, request: Request) -> Response:
    # Polled by every open tab: it skips the ORM session and its dependencies, and a poll
    # holding the current ETag is answered from the job's version alone.
    async with user_transaction(request) as db:
        if_none_match = request.headers.get("if-none-match")
        if if_none_match:
            etag = (await reading.job_version(db.conn, job_id)).etag()
            if reading.matches(if_none_match, etag):
                return Response(status_code=304, headers=_cache_headers(etag))
        read = await reading.read_job(db.conn, job_id)
    return Response(
        read.job.model_dump_json(),
        media_type="application/json",
        headers=_cache_headers(read.version.etag()),
    )


def _cache_headers(etag: str) -> dict[str, str]:
    return {"ETag": etag, "Cache-Control": "no-cache"}


@router.get("/projects/{project_id}/jobs", response_model=list[JobOut])
async def list_jobs(
    project_id: uuid.UUID,
    actor: CurrentActor,
    db: DbSession,
    state: Literal["active", "recent"] = "recent",
    limit: int = Query(default=5, ge=1, le=100),
) -> list[JobOut]:
    return await service.list_project_jobs(db, actor, project_id, state, limit)


@router.post("/jobs/{job_id}/retry", status_code=202, response_model=JobRef, responses=errors(409))
async def retry_job(
    job_id: uuid.UUID, request: Request, actor: CurrentActor, db: DbSession
) -> JobRef:
    job = await service.retry_job(db, actor, request.app.state.queue, job_id)
    return JobRef(job_id=job.id)


@router.post(
    "/jobs/{job_id}/cancel", status_code=202, response_model=CancelOut, responses=errors(409)
)
async def cancel_job(
    job_id: uuid.UUID, request: Request, actor: CurrentActor, db: DbSession
) -> CancelOut:
    job = await service.cancel_job(db, actor, request.app.state.queue, job_id)
    return CancelOut(job_id=job.id, status=job.status)

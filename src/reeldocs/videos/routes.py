from __future__ import annotations

import uuid

from fastapi import APIRouter, BackgroundTasks, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from reeldocs.core.deps import AppSettings, AppStorage, CurrentActor, DbSession
from reeldocs.core.errors import ReeldocsError
from reeldocs.core.openapi import errors
from reeldocs.videos import service
from reeldocs.videos.schemas import UPLOAD_REQUEST_BODY, VideoOut, VideoUpdate
from reeldocs.videos.upload import MultipartReceiver

router = APIRouter(prefix="/api", tags=["videos"])

# The file's own type, found by reading it at upload (MP4, QuickTime, WebM, Matroska…).
_VIDEO_CONTENT = {
    "video/*": {"schema": {"type": "string", "format": "binary"}},
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
}


@router.get("/projects/{project_id}/videos", response_model=list[VideoOut])
async def list_videos(project_id: uuid.UUID, actor: CurrentActor, db: DbSession) -> list[VideoOut]:
    """The project's videos, newest first."""
    return await service.list_for_project(db, actor, project_id)


@router.post(
    "/projects/{project_id}/videos",
    status_code=201,
    response_model=VideoOut,
    openapi_extra={"requestBody": UPLOAD_REQUEST_BODY},
    responses=errors(400, 413, 415, 422, 503),
)
async def upload_video(
    project_id: uuid.UUID,
    request: Request,
    actor: CurrentActor,
    db: DbSession,
    settings: AppSettings,
    storage: AppStorage,
) -> VideoOut | Response:
    """Upload a video (multipart: `file`, `title?`). It is read before it is accepted."""
    receiver: MultipartReceiver | None = None
    try:
        receiver = MultipartReceiver(
            request.headers.get("content-type"),
            request.headers.get("content-length"),
            settings.max_upload_bytes,
        )
        return await service.upload(
            db, actor, storage, settings, project_id, receiver, request.stream()
        )
    except ReeldocsError as exc:
        if receiver is not None and receiver.body_complete:
            raise
        # Refused mid-body: closing the connection stops the client sending the rest,
        # which the server would otherwise go on reading (and discarding) to the end.
        return JSONResponse(exc.body(), status_code=exc.status, headers={"Connection": "close"})


@router.get("/videos/{video_id}", response_model=VideoOut)
async def show_video(video_id: uuid.UUID, actor: CurrentActor, db: DbSession) -> VideoOut:
    return await service.show(db, actor, video_id)


@router.patch("/videos/{video_id}", response_model=VideoOut, responses=errors(403))
async def update_video(
    video_id: uuid.UUID, body: VideoUpdate, actor: CurrentActor, db: DbSession
) -> VideoOut:
    """Retitle the video, or publish it on its project's docs site (`published`): owners
    and editors. A published video shows there once it has docs."""
    return await service.update(db, actor, video_id, title=body.title, published=body.published)


@router.delete("/videos/{video_id}", status_code=204)
async def delete_video(
    video_id: uuid.UUID,
    actor: CurrentActor,
    db: DbSession,
    storage: AppStorage,
    background: BackgroundTasks,
) -> Response:
    """Delete the video, its docs and its files; its active job is cancelled."""
    prefix = await service.delete(db, actor, video_id)
    # Files go once the rows are gone for good (background tasks run after the commit).
    background.add_task(storage.discard_prefix, prefix)
    return Response(status_code=204, background=background)


@router.get(
    "/videos/{video_id}/file",
    response_class=StreamingResponse,
    responses={
        200: {"content": _VIDEO_CONTENT, "description": "The whole file"},
        206: {"content": _VIDEO_CONTENT, "description": "The byte range asked for with Range"},
        **errors(416, 503),
    },
    openapi_extra={
        "parameters": [
            {
                "name": "Range",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": "One byte range: bytes=a-b, bytes=a- or bytes=-n. Anything "
                "else (several ranges, another unit) gets the whole file.",
            }
        ]
    },
)
async def video_file(
    video_id: uuid.UUID, request: Request, actor: CurrentActor, db: DbSession, storage: AppStorage
) -> Response:
    """The video's bytes, whole or one `Range` (bytes=a-b, bytes=a-, bytes=-n)."""
    video = await service.get(db, actor, video_id)
    await db.commit()  # the connection goes back to the pool before the storage is asked
    source = await service.stored_source(storage, video)
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "private"}
    try:
        wanted = service.requested_range(request.headers.get("range"), source.size)
    except service.RangeNotSatisfiable as exc:
        headers["Content-Range"] = f"bytes */{source.size}"
        return JSONResponse(exc.body(), status_code=exc.status, headers=headers)
    if wanted is None:
        wanted, status = service.ByteRange(0, source.size - 1), 200
    else:
        status = 206
        headers["Content-Range"] = f"bytes {wanted.start}-{wanted.end}/{source.size}"
    headers["Content-Length"] = str(wanted.length)
    return StreamingResponse(
        await service.open_source(storage, source, wanted),
        status_code=status,
        media_type=source.mime,
        headers=headers,
    )

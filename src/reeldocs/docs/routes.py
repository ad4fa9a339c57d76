from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel

from reeldocs.core.deps import AppSettings, AppStorage, CurrentActor, DbSession
from reeldocs.core.errors import NotFound
from reeldocs.core.openapi import errors
from reeldocs.docs import export as exports
from reeldocs.docs import service
from reeldocs.docs.schemas import ArticleOut, SegmentOut
from reeldocs.docs.subtitles import to_srt, to_webvtt
from reeldocs.providers.registry import language_options

router = APIRouter(prefix="/api", tags=["docs"])


class LanguageOut(BaseModel):
    code: str
    label: str
    primary: bool
    translate: bool
    spoken: bool


@router.get("/languages", response_model=list[LanguageOut])
async def languages(settings: AppSettings) -> list[LanguageOut]:
    return [LanguageOut(**vars(option)) for option in language_options(settings)]


@router.get("/videos/{video_id}/segments", response_model=list[SegmentOut])
async def segments(video_id: uuid.UUID, actor: CurrentActor, db: DbSession) -> list[SegmentOut]:
    return [
        SegmentOut(**service.segment_out(s)) for s in await service.segments(db, actor, video_id)
    ]


@router.get("/videos/{video_id}/articles", response_model=list[ArticleOut])
async def articles(
    video_id: uuid.UUID, actor: CurrentActor, db: DbSession, language: str | None = None
) -> list[ArticleOut]:
    return [
        ArticleOut.model_validate(a, from_attributes=True)
        for a in await service.articles(db, actor, video_id, language)
    ]


@router.get(
    "/videos/{video_id}/screenshots/{name}",
    response_class=Response,
    responses={
        200: {"content": {"image/webp": {"schema": {"type": "string", "format": "binary"}}}},
        **errors(503),
    },
)
async def screenshot(
    video_id: uuid.UUID, name: str, actor: CurrentActor, db: DbSession, storage: AppStorage
) -> Response:
    shot = await service.screenshot(db, actor, video_id, name)
    await db.commit()  # the connection goes back to the pool before the storage is asked
    opened = await storage.open_whole(shot.storage_path)
    if opened is None:
        raise NotFound("This screenshot is missing from storage. Process the video again.")
    return StreamingResponse(
        opened.chunks,
        media_type="image/webp",
        headers={"Content-Length": str(opened.size), "Cache-Control": "private, max-age=86400"},
    )


@router.get(
    "/videos/{video_id}/subtitles.vtt",
    response_class=Response,
    responses={200: {"content": {"text/vtt": {"schema": {"type": "string"}}}}},
)
async def subtitles_vtt(
    video_id: uuid.UUID, actor: CurrentActor, db: DbSession, language: str | None = None
) -> Response:
    code, cues = await service.subtitle_cues(db, actor, video_id, language)
    return Response(
        to_webvtt(cues),
        media_type="text/vtt; charset=utf-8",
        headers={"Content-Language": code},
    )


@router.get(
    "/videos/{video_id}/subtitles.srt",
    response_class=Response,
    responses={200: {"content": {"application/x-subrip": {"schema": {"type": "string"}}}}},
)
async def subtitles_srt(
    video_id: uuid.UUID, actor: CurrentActor, db: DbSession, language: str | None = None
) -> Response:
    code, cues = await service.subtitle_cues(db, actor, video_id, language)
    return Response(
        to_srt(cues),
        media_type="application/x-subrip; charset=utf-8",
        headers={
            "Content-Language": code,
            "Content-Disposition": f'attachment; filename="subtitles-{code}.srt"',
        },
    )


@router.get(
    "/videos/{video_id}/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
            "description": "The video's folder, `<video-slug>/`: index, articles per language, "
            "the screenshots they show, VTT and SRT subtitles, and the video with `video=true`.",
        },
        **errors(503),
    },
)
async def export(
    video_id: uuid.UUID,
    request: Request,
    actor: CurrentActor,
    db: DbSession,
    storage: AppStorage,
    settings: AppSettings,
    format: Literal["markdown", "mdx"] = "markdown",
    video: Annotated[
        bool, Query(description="Include the video file; moments then link to it.")
    ] = False,
) -> Response:
    tree = await exports.load_tree(
        db,
        actor,
        video_id,
        fmt=format,
        include_video=video,
        base_url=settings.base_url(str(request.base_url)),
    )
    await db.commit()  # the connection goes back to the pool before the storage is asked
    archive = await exports.open_zip(tree, storage)
    return StreamingResponse(
        archive.chunks,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{archive.name}"',
            "Content-Length": str(archive.size),
            "Cache-Control": "private, no-store",
        },
    )
